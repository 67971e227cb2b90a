/**
 * The official Electric client in SSE mode (`liveSse: true`) against our server. Runs under jsdom because the
 * client's fetch-event-source needs `document`; in plain Node it fails and the client falls back to long-polling.
 * Proves the changes arrive over SSE: every live request after the first SSE one is SSE too, and the client
 * never warns about a fallback.
 */
import { Shape, ShapeStream } from '@electric-sql/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer } from '../../src/testing'
import { itemsTable, parsedItems, shapeRowsSatisfy, sortById } from '../server/support/electricInterop'

const ITEMS = itemsTable([
  { id: 1, title: 'one', n: 1 },
  { id: 2, title: 'two', n: 2 },
])

describe('interop with @electric-sql/client over SSE', () => {
  let server: TestShapeServer
  const controllers: AbortController[] = []
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort()
    vi.restoreAllMocks()
    await server.close()
  })

  for (const replica of ['default', 'full'] as const) {
    it(`replica=${replica}: inserts, updates, deletes and a key change arrive over SSE`, async () => {
      const warn = vi.spyOn(console, 'warn')
      server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 5_000, sseTimeoutMs: 10_000 })
      const controller = new AbortController()
      controllers.push(controller)
      const urls: string[] = []
      let resolveAtHead: () => void = () => {}
      const atHead = new Promise<void>((resolve) => (resolveAtHead = resolve))
      const stream = new ShapeStream({
        url: server.url,
        params: { table: 'items', replica },
        signal: controller.signal,
        liveSse: true,
        fetchClient: async (input, init) => {
          urls.push(String(input instanceof Request ? input.url : input))
          const response = await server.fetch(input, init)
          const sse = response.headers.get('content-type') === 'text/event-stream'
          if (sse && response.headers.has('electric-up-to-date')) resolveAtHead()
          return response
        },
      })
      const shape = new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0])
      const matchesSource = (rows: Record<string, unknown>[]) =>
        JSON.stringify(sortById(rows)) === JSON.stringify(parsedItems(server.source.rows('items')))

      expect(sortById(await shape.rows)).toEqual(parsedItems(server.source.rows('items')))
      // Writes before the SSE request would make it a catch-up that closes at once (§5.1); the client counts such
      // short connections toward its long-poll fallback, so start writing once a stream is open at the head.
      await atHead
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

      const live = urls.map((url) => new URL(url).searchParams).filter((search) => search.get('live') === 'true')
      const firstSse = live.findIndex((search) => search.get('live_sse') === 'true')
      expect(firstSse).toBeGreaterThanOrEqual(0)
      expect(live.slice(firstSse).every((search) => search.get('live_sse') === 'true')).toBe(true)
      // One stream open at the head carried every change: no reconnect loop.
      expect(live.length - firstSse).toBe(1)
      expect(warn.mock.calls.flat().join(' ')).not.toMatch(/Falling back to long polling/)
    })
  }
})
