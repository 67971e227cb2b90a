/**
 * Races of requests with each other and with the handler's own operations, on any source: bursts of first
 * requests for a new table, DELETE and `close()` racing live and new requests, eviction racing creations.
 * Bursts are `Promise.all` of requests started in one job; nothing waits on a sleep.
 */
import { describe, expect, it, vi } from 'vitest'
import type { ConformanceContext } from './conformance'
import { call, initialSync, shapeUrl } from './shapeHttp'
import type { ShapeResponse } from './shapeHttp'

/** Four definitions of one table, spelled so each is its own shape. */
const definitions = (table: string): Record<string, string>[] => [
  { table },
  { table, where: 'id > 0' },
  { table, columns: 'id,title' },
  { table, replica: 'full' },
]

export function defineConcurrencyConformance(ctx: ConformanceContext): void {
  describe('concurrency', () => {
    it('a burst of first requests for shapes of a new table: each 200, one handle per definition, nothing logged', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      const onError = vi.fn()
      const handler = ctx.handler({ onError })
      const shapes = definitions(table)
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, index) => call(handler, shapeUrl({ ...shapes[index % shapes.length], offset: '-1' }))),
      )
      expect(responses.map((response) => response.status)).toEqual(Array(16).fill(200))
      expect(onError).not.toHaveBeenCalled()
      const handles = shapes.map((_, which) => new Set(responses.filter((_, index) => index % shapes.length === which).map(handleOf)))
      expect(handles.map((set) => set.size)).toEqual([1, 1, 1, 1])
      expect(new Set(handles.flatMap((set) => [...set])).size).toBe(4)
      expect(handler.stats().shapes).toBe(4)
    })

    it('a DELETE racing live requests and new first requests: nothing fails, live requests end, a new shape follows', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      const onError = vi.fn()
      const handler = ctx.handler({ onError, allowDelete: true })
      const { position } = await initialSync(handler, { table })
      const live = Array.from({ length: 3 }, () =>
        call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' })),
      )
      const racing = await Promise.all([
        ...live,
        call(handler, shapeUrl({ table, handle: position.handle }), { method: 'DELETE' }),
        ...Array.from({ length: 3 }, () => call(handler, shapeUrl({ table, offset: '-1' }))),
      ])
      const statuses = racing.map((response) => response.status)
      expect(statuses.slice(0, 3).every((status) => status === 409 || status === 200)).toBe(true)
      expect(statuses[3]).toBe(202)
      expect(statuses.slice(4)).toEqual([200, 200, 200])
      expect(onError).not.toHaveBeenCalled()
      const after = await call(handler, shapeUrl({ table, offset: '-1' }))
      expect(after.status).toBe(200)
      expect(handleOf(after)).not.toBe(position.handle)
    })

    it('eviction racing a burst of new shapes (maxShapes 1): every first request 200, nothing logged', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      const onError = vi.fn()
      const handler = ctx.handler({ onError, maxShapes: 1 })
      const shapes = definitions(table)
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, index) => call(handler, shapeUrl({ ...shapes[index % shapes.length], offset: '-1' }))),
      )
      expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200))
      expect(onError).not.toHaveBeenCalled()
      expect(handler.stats().shapes).toBe(1)
    })

    it('close() racing first and live requests: every request answered without a 5xx, and no shape left behind', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      const onError = vi.fn()
      const handler = ctx.handler({ onError })
      const { position } = await initialSync(handler, { table })
      const inFlight = [
        ...Array.from({ length: 2 }, () => call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))),
        ...definitions(table).slice(1).map((shape) => call(handler, shapeUrl({ ...shape, offset: '-1' }))),
      ]
      await handler.close()
      const responses = await Promise.all(inFlight)
      expect(responses.map((response) => response.status).filter((status) => status >= 500)).toEqual([])
      expect(onError).not.toHaveBeenCalled()
      // What close() ends stays ended: no shape created by a request that was in flight keeps listening.
      expect(handler.stats().shapes).toBe(0)
    })
  })
}

function handleOf(response: ShapeResponse): string {
  return response.headers.get('electric-handle') ?? ''
}
