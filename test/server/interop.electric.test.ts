/**
 * The official Electric client syncs from our server (memory source, in-process fetch) and ends with exactly the
 * rows the source holds, through inserts, updates, deletes and key changes, in long-poll mode. Its SSE mode needs
 * `document` (fetch-event-source), so the SSE interop runs under jsdom: test/jsdom/interop.electric.sse.test.ts.
 */
import { Shape, ShapeStream } from '@electric-sql/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer } from '../../src/testing'
import { itemsTable, parsedItems, shapeRowsSatisfy, sortById } from './support/electricInterop'

const ITEMS = itemsTable([
  { id: 1, title: 'one', n: 1 },
  { id: 2, title: 'two', n: 2 },
])

describe('interop with @electric-sql/client', () => {
  let server: TestShapeServer
  const controllers: AbortController[] = []
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort()
    await server.close()
  })

  const open = (params: Record<string, string>) => {
    const controller = new AbortController()
    controllers.push(controller)
    const urls: string[] = []
    const stream = new ShapeStream({
      url: server.url,
      params: { table: 'items', ...params },
      signal: controller.signal,
      fetchClient: (input, init) => {
        urls.push(String(input instanceof Request ? input.url : input))
        return server.fetch(input, init)
      },
    })
    return { stream, shape: new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0]), urls }
  }

  const matchesSource = (rows: Record<string, unknown>[]) =>
    JSON.stringify(sortById(rows)) === JSON.stringify(parsedItems(server.source.rows('items')))

  for (const mode of ['long-poll'] as const) {
    for (const replica of ['default', 'full'] as const) {
      it(`${mode}, replica=${replica}: inserts, updates, deletes and a key change reach the client`, async () => {
        server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000, sseTimeoutMs: 5_000 })
        const { shape, urls } = open({ replica })
        const initial = await shape.rows
        expect(sortById(initial)).toEqual(parsedItems(server.source.rows('items')))

        server.source.insert('items', { id: 3, title: 'three', n: null })
        await shapeRowsSatisfy(shape, matchesSource)
        server.source.transaction((tx) => {
          tx.update('items', { id: 1, title: 'uno' })
          tx.delete('items', { id: 2 })
        })
        await shapeRowsSatisfy(shape, matchesSource)
        server.source.update('items', { id: 30 }, { id: 3 })
        const final = await shapeRowsSatisfy(shape, matchesSource)
        expect(final.map((row) => row.id).sort()).toEqual([1, 30])
        const live = urls.filter((url) => new URL(url).searchParams.get('live') === 'true')
        expect(live.length).toBeGreaterThan(0)
        expect(live.some((url) => new URL(url).searchParams.has('live_sse'))).toBe(false)
      })
    }
  }
  it('syncs from a server that requires a secret when the client sends it as a param', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000, secret: 'electric-secret' })
    const { shape, urls } = open({ secret: 'electric-secret' })
    expect(sortById(await shape.rows)).toEqual(parsedItems(server.source.rows('items')))
    server.source.insert('items', { id: 3, title: 'three', n: 3 })
    await shapeRowsSatisfy(shape, matchesSource)
    expect(urls.every((url) => new URL(url).searchParams.get('secret') === 'electric-secret')).toBe(true)
  })

  it('long-poll with where and params: rows move in and out of the shape', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    const { shape } = open({ where: 'n >= $1', 'params[1]': '2' })
    const inShape = () => parsedItems(server.source.rows('items')).filter((row) => (row.n as number | null) !== null && (row.n as number) >= 2)
    const matches = (rows: Record<string, unknown>[]) => JSON.stringify(sortById(rows)) === JSON.stringify(inShape())
    expect(sortById(await shape.rows)).toEqual(inShape())
    server.source.update('items', { id: 1, n: 5 })
    server.source.update('items', { id: 2, n: 0 })
    server.source.insert('items', { id: 3, title: 'three', n: 9 })
    const rows = await shapeRowsSatisfy(shape, matches)
    expect(rows.map((row) => row.id).sort()).toEqual([1, 3])
  })
})
