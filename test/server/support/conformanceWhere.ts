/**
 * Conformance of `where` shapes: filtered snapshots, bound params, refusals, and live changes moving rows into and
 * out of the shape (§3.2: only-old → delete, only-new → insert with the full row, both → update).
 */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext } from './conformance'
import { call, changesOf, initialSync, liveUntil, shapeUrl } from './shapeHttp'
import type { WireMessage } from './shapeHttp'

export function defineWhereConformance(ctx: ConformanceContext): void {
  describe('where', () => {
    it('filters the snapshot, with bracket params bound', async () => {
      const table = await ctx.itemsTable()
      for (const [id, title, n] of [[1, 'a', 1], [2, 'b', 5], [3, 'b', 9]] as const) await ctx.fixture.insert(table, { id, title, n })
      const { messages } = await initialSync(ctx.handler(), { table, where: 'title = $1 AND n > $2', 'params[1]': 'b', 'params[2]': '6' })
      expect(changesOf(messages).map((m) => m.value)).toEqual([{ id: '3', title: 'b', n: '9' }])
    })

    it('refuses an invalid where with 400 errors.where', async () => {
      const table = await ctx.itemsTable()
      const response = await call(ctx.handler(), shapeUrl({ table, where: 'nope = 1', offset: '-1' }))
      expect(response.status).toBe(400)
      expect(response.body.message).toBe('Invalid request')
      expect(response.body.errors.where).toEqual([expect.any(String)])
    })

    it('live changes entering, staying in and leaving the shape', async () => {
      const table = await ctx.itemsTable({ replicaFull: true })
      await ctx.fixture.insert(table, { id: 1, title: 'in', n: 10 })
      await ctx.fixture.insert(table, { id: 2, title: 'out', n: 0 })
      const handler = ctx.handler()
      const params = { table, where: 'n >= 5' }
      const { position, messages } = await initialSync(handler, params)
      expect(changesOf(messages).map((m) => m.value?.id)).toEqual(['1'])
      await ctx.fixture.update(table, { id: 2 }, { n: 7 })
      await ctx.fixture.update(table, { id: 1 }, { title: 'still in' })
      await ctx.fixture.update(table, { id: 1 }, { n: 1 })
      await ctx.fixture.insert(table, { id: 3, title: 'never', n: 2 })
      await ctx.fixture.insert(table, { id: 4, title: 'fresh', n: 50 })
      const { changes } = await liveUntil(handler, params, position, (all) => all.length >= 4)
      const summary = changes.map((m: WireMessage) => [m.headers.operation, m.value])
      expect(summary).toEqual([
        ['insert', { id: '2', title: 'out', n: '7' }],
        ['update', { id: '1', title: 'still in' }],
        ['delete', { id: '1' }],
        ['insert', { id: '4', title: 'fresh', n: '50' }],
      ])
    })
  })
}
