/**
 * The official `@electric-sql/client` (long-poll, memory source) on the protocol paths the row-sync interop does not
 * take: quoted mixed-case identifiers in `table` and `columns` (the client quotes every column), `offset: 'now'`
 * (§4.4: no history, then live), and a 409 while live (§8.21–22: the client refetches from -1 under the new handle).
 */
import { Shape, ShapeStream } from '@electric-sql/client'
import type { Row } from '@electric-sql/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer, TestShapeServerOptions } from '../../src/testing'
import { itemsTable, parsedItems, shapeRowsSatisfy, sortById } from './support/electricInterop'

describe('interop with @electric-sql/client: identifiers, offset=now, 409', () => {
  let server: TestShapeServer | undefined
  const controllers: AbortController[] = []
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort()
    await server?.close()
    server = undefined
  })

  const open = (options: TestShapeServerOptions, params: Record<string, unknown>, offset?: 'now') => {
    const active = createTestShapeServer(options)
    server = active
    const controller = new AbortController()
    controllers.push(controller)
    const urls: string[] = []
    const stream = new ShapeStream<Row<unknown>>({
      url: active.url,
      params: params as ConstructorParameters<typeof ShapeStream>[0]['params'],
      signal: controller.signal,
      ...(offset === undefined ? {} : { offset }),
      fetchClient: (input, init) => {
        urls.push(String(input instanceof Request ? input.url : input))
        return active.fetch(input, init)
      },
    })
    return { server: active, stream, shape: new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0]), urls }
  }

  it('a quoted mixed-case table and columns: the client quotes each column, the server keeps their case', async () => {
    const table = {
      name: 'Todo Items',
      columns: [
        { name: 'Id', type: 'int4', primaryKey: true },
        { name: 'Title', type: 'text' },
        { name: 'secret', type: 'text' },
      ],
      rows: [{ Id: 1, Title: 'one', secret: 'hidden' }],
    }
    const { server, shape, urls } = open({ tables: [table], longPollTimeoutMs: 1_000 }, { table: '"Todo Items"', columns: ['Id', 'Title'] })
    expect(await shape.rows).toEqual([{ Id: 1, Title: 'one' }])
    expect(new URL(urls[0] as string).searchParams.get('columns')).toBe('"Id","Title"')
    server.source.insert('Todo Items', { Id: 2, Title: 'two', secret: 'hidden' })
    const rows = await shapeRowsSatisfy(shape, (current) => current.length === 2)
    expect([...rows].sort((a, b) => Number(a.Id) - Number(b.Id))).toEqual([
      { Id: 1, Title: 'one' },
      { Id: 2, Title: 'two' },
    ])
  })

  it("offset: 'now' skips the history, is up to date at once, then receives later changes live", async () => {
    const { server, shape, urls } = open(
      { tables: [itemsTable([{ id: 1, title: 'before', n: 1 }])], longPollTimeoutMs: 1_000 },
      { table: 'items' },
      'now',
    )
    expect(await shape.rows).toEqual([])
    expect(new URL(urls[0] as string).searchParams.get('offset')).toBe('now')
    server.source.insert('items', { id: 2, title: 'after', n: 2 })
    const rows = await shapeRowsSatisfy(shape, (current) => current.length === 1)
    expect(rows).toEqual([{ id: 2, title: 'after', n: 2 }])
  })

  it('a 409 while live (the shape was deleted): the client refetches from -1 under the new handle and ends with the source rows', async () => {
    const { server, shape, urls } = open(
      { tables: [itemsTable([{ id: 1, title: 'one', n: 1 }])], longPollTimeoutMs: 5_000, allowDelete: true },
      { table: 'items' },
    )
    await shape.rows
    const oldHandle = shape.stream.shapeHandle as string
    const deleted = await server.fetch(`${server.url}?table=items`, { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    server.source.insert('items', { id: 2, title: 'two', n: 2 })
    const matches = (rows: Record<string, unknown>[]) =>
      JSON.stringify(sortById(rows)) === JSON.stringify(parsedItems(server.source.rows('items')))
    await shapeRowsSatisfy(shape, matches)
    const newHandle = shape.stream.shapeHandle as string
    expect(newHandle).not.toBe(oldHandle)
    const refetch = urls.map((url) => new URL(url).searchParams).find((params) => params.get('offset') === '-1' && params.has('cache-buster'))
    expect(refetch, urls.join('\n')).toBeDefined()
    expect(refetch?.get('live')).toBeNull()
  })
})
