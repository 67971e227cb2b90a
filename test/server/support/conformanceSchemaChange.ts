/**
 * Conformance of schema changes (§6 409, §8 items 21 and 23; source.ts on schema changes), on the sources with DDL: an
 * ALTER TABLE of a shape's table followed by a write invalidates the table's shapes, so clients resync with the new
 * columns; shapes of other tables stay live.
 */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext } from './conformance'
import { call, initialSync, liveUntil, shapeUrl } from './shapeHttp'
import type { WireMessage } from './shapeHttp'

export function defineSchemaChangeConformance(ctx: ConformanceContext): void {
  const alter = (table: string, clause: string): Promise<void> => {
    const { alterTable } = ctx.fixture
    if (alterTable === undefined) throw new Error('this fixture has no DDL')
    return alterTable(table, clause)
  }
  const rowsOf = (messages: readonly WireMessage[]) =>
    messages.filter((message) => message.key !== undefined).map((message) => message.value)

  describe('schema changes', () => {
    const id = { type: 'int4', pk_index: 0, not_null: true }
    const title = { type: 'text' }
    it.each([
      {
        change: 'ADD COLUMN',
        clause: 'ADD COLUMN note text',
        write: { note: 'new' },
        schema: { id, title, n: { type: 'int4' }, note: { type: 'text' } },
        rows: [
          { id: '1', title: 'before', n: '1', note: null },
          { id: '2', title: 'after', n: null, note: 'new' },
        ],
      },
      {
        change: 'DROP COLUMN',
        clause: 'DROP COLUMN n',
        write: {},
        schema: { id, title },
        rows: [
          { id: '1', title: 'before' },
          { id: '2', title: 'after' },
        ],
      },
      {
        change: 'RENAME COLUMN',
        clause: 'RENAME COLUMN n TO amount',
        write: { amount: 7 },
        schema: { id, title, amount: { type: 'int4' } },
        rows: [
          { id: '1', title: 'before', amount: '1' },
          { id: '2', title: 'after', amount: '7' },
        ],
      },
      {
        change: 'ALTER COLUMN TYPE',
        clause: 'ALTER COLUMN n TYPE int8',
        write: { n: 7 },
        schema: { id, title, n: { type: 'int8' } },
        rows: [
          { id: '1', title: 'before', n: '1' },
          { id: '2', title: 'after', n: '7' },
        ],
      },
    ])('$change then a write: the held request and the old handle get 409 must-refetch, a refetch has the new columns', async ({ clause, write, schema, rows }) => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'before', n: 1 })
      const handler = ctx.handler({ longPollTimeoutMs: 10_000 })
      const { position } = await initialSync(handler, { table })
      const held = call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))
      await alter(table, clause)
      await ctx.fixture.insert(table, { id: 2, title: 'after', ...write })
      const response = await held
      expect(response.status).toBe(409)
      expect(response.body).toEqual([{ headers: { control: 'must-refetch' } }])
      const stale = await call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle }))
      expect(stale.status).toBe(409)
      expect(stale.body).toEqual([{ headers: { control: 'must-refetch' } }])
      expect(stale.headers.get('electric-handle')).not.toBe(position.handle)
      const refetched = await initialSync(handler, { table })
      expect(refetched.position.handle).toBe(stale.headers.get('electric-handle'))
      expect(JSON.parse(refetched.responses[0]?.headers.get('electric-schema') ?? 'null')).toEqual(schema)
      expect(rowsOf(refetched.messages).sort((a, b) => Number(a?.['id']) - Number(b?.['id']))).toEqual(rows)
    })

    it('a schema change of another table leaves the shape live, with its changes after it', async () => {
      const table = await ctx.itemsTable()
      const other = await ctx.itemsTable()
      const handler = ctx.handler({ longPollTimeoutMs: 10_000 })
      const { position } = await initialSync(handler, { table })
      const otherSync = await initialSync(handler, { table: other })
      await alter(other, 'ADD COLUMN note text')
      await ctx.fixture.insert(other, { id: 1, title: 'altered', n: 1, note: 'x' })
      await ctx.fixture.insert(table, { id: 3, title: 'still live', n: 3 })
      const { changes } = await liveUntil(handler, { table }, position, (found) => found.length >= 1)
      expect(changes.map((change) => change.value)).toEqual([{ id: '3', title: 'still live', n: '3' }])
      const stale = await call(handler, shapeUrl({ table: other, offset: otherSync.position.offset, handle: otherSync.position.handle }))
      expect(stale.status).toBe(409)
    })
  })
}
