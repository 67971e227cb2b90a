/**
 * Shape eviction (shapeRegistry.ts, eviction): idle shapes go least recently used first under `maxShapes` and
 * `maxShapeBytes`; a shape a request holds is never evicted; clients of an evicted shape get 409 and resync.
 */
import { describe, expect, it } from 'vitest'
import { createShapeHandler, type ShapeHandler } from '../../src/server/handler'
import { createMemorySource } from '../../src/server/sources/memory'
import { observedClock } from './support/shapeHttp'

const TABLES = Array.from({ length: 8 }, (_, index) => ({
  name: `t${index}`,
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'title', type: 'text' },
  ],
}))

function setup(options: { maxShapes?: number; maxShapeBytes?: number; clock?: ReturnType<typeof observedClock>['clock'] }) {
  const source = createMemorySource({ tables: TABLES })
  for (const table of TABLES) source.insert(table.name, { id: 1, title: `${table.name}-1` })
  const handler = createShapeHandler({ source, longPollTimeoutMs: 60_000, ...options })
  return { source, handler }
}

async function open(handler: ShapeHandler, table: string): Promise<{ handle: string; offset: string; rows: unknown[] }> {
  const response = await handler(new Request(`http://t/v1/shape?table=${table}&offset=-1`))
  expect(response.status).toBe(200)
  const messages = (await response.json()) as { key?: string }[]
  return {
    handle: response.headers.get('electric-handle') as string,
    offset: response.headers.get('electric-offset') as string,
    rows: messages.filter((message) => message.key !== undefined),
  }
}

const follow = (handler: ShapeHandler, table: string, shape: { handle: string; offset: string }, extra = '') =>
  handler(new Request(`http://t/v1/shape?table=${table}&offset=${shape.offset}&handle=${shape.handle}${extra}`))

describe('shape eviction', () => {
  it('keeps the registry within maxShapes, evicting the least recently used first', async () => {
    const { handler } = setup({ maxShapes: 3 })
    const shapes = []
    for (const table of TABLES.slice(0, 3)) shapes.push(await open(handler, table.name))
    // t0 is used again: t1 is now the least recently used.
    expect((await follow(handler, 't0', shapes[0] as { handle: string; offset: string })).status).toBe(200)
    await open(handler, 't3')
    expect(handler.stats()).toMatchObject({ shapes: 3, evicted: 1 })
    expect((await follow(handler, 't1', shapes[1] as { handle: string; offset: string })).status).toBe(409)
    expect((await follow(handler, 't0', shapes[0] as { handle: string; offset: string })).status).toBe(200)
    for (const table of TABLES.slice(4)) await open(handler, table.name)
    expect(handler.stats().shapes).toBe(3)
    // The 409 above recreated t1, which evicted one more.
    expect(handler.stats().evicted).toBe(TABLES.length - 3 + 1)
    await handler.close()
  })

  it("an evicted shape's client gets 409 must-refetch and resyncs to the current rows", async () => {
    const { handler, source } = setup({ maxShapes: 1 })
    const first = await open(handler, 't0')
    source.insert('t0', { id: 2, title: 't0-2' })
    await open(handler, 't1')
    const refused = await follow(handler, 't0', first)
    expect(refused.status).toBe(409)
    expect(await refused.json()).toEqual([{ headers: { control: 'must-refetch' } }])
    const newHandle = refused.headers.get('electric-handle')
    const again = await open(handler, 't0')
    expect(again.handle).not.toBe(first.handle)
    expect(newHandle).toBe(again.handle)
    expect(again.rows).toHaveLength(2)
    await handler.close()
  })

  it('never evicts a shape a live request holds; it goes once released and another shape needs the room', async () => {
    const observed = observedClock(60_000)
    const { handler, source } = setup({ maxShapes: 2, clock: observed.clock })
    const held = await open(handler, 't0')
    const armed = observed.armed()
    const live = follow(handler, 't0', held, '&live=true')
    await armed
    for (const table of TABLES.slice(1)) await open(handler, table.name)
    expect(handler.stats().shapes).toBe(2)
    source.insert('t0', { id: 2, title: 't0-2' })
    const answered = await live
    expect(answered.status).toBe(200)
    const next = { handle: held.handle, offset: answered.headers.get('electric-offset') as string }
    expect((await follow(handler, 't0', next)).status).toBe(200)
    // Released now, and most recently used: the next new shape evicts the other one.
    await open(handler, 't1')
    expect((await follow(handler, 't0', next)).status).toBe(200)
    await handler.close()
  })

  it('an open SSE stream holds its shape', async () => {
    const { handler } = setup({ maxShapes: 1 })
    const held = await open(handler, 't0')
    const sse = await follow(handler, 't0', { handle: held.handle, offset: '0_inf' }, '&live=true&live_sse=true')
    expect(sse.status).toBe(200)
    await open(handler, 't1')
    expect(handler.stats()).toMatchObject({ shapes: 2, evicted: 0 })
    await sse.body?.cancel()
    await open(handler, 't2')
    expect(handler.stats().shapes).toBe(1)
    expect((await follow(handler, 't0', held)).status).toBe(409)
    await handler.close()
  })

  it('keeps the shapes within maxShapeBytes, counting the log as it grows', async () => {
    const { handler, source } = setup({ maxShapeBytes: 3_000 })
    const big = (table: string, from: number) => {
      for (let id = from; id < from + 10; id++) source.insert(table, { id, title: 'x'.repeat(100) })
    }
    big('t0', 10)
    await open(handler, 't0')
    const size = handler.stats().shapeBytes
    expect(size).toBeGreaterThan(1_000)
    await open(handler, 't1')
    await open(handler, 't2')
    expect(handler.stats().shapeBytes).toBeLessThanOrEqual(3_000)
    const before = handler.stats()
    big('t2', 100) // t2's log grows past the bound: the least recently used others go.
    big('t2', 200)
    const after = handler.stats()
    expect(after.evicted).toBeGreaterThan(before.evicted)
    expect(after.shapes).toBe(1)
    await handler.close()
  })
})

