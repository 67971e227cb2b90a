/**
 * Txids end to end against a SQL source: the `pg_current_xact_id()::xid` a real transaction reports is the txid the
 * client's shape confirms (`whenTxid`, `mutate`), and a transaction touching no row of the shape never confirms.
 * Run by txids.pglite.test.ts and txids.postgres.test.ts over their file's shared source.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../../src/core/shapeClient'
import { TxidTimeoutError } from '../../../src/core/txid'
import { createShapeHandler } from '../../../src/server/handler'
import type { ShapeHandler } from '../../../src/server/handler'
import type { ChangeSource } from '../../../src/server/sources/source'
import type { SourceFixture } from './fixture'
import type { SqlFixtureFactory } from './sqlFixture'

interface Item {
  id: number
  title: string
}

const columns = [
  { name: 'id', type: 'int4', primaryKey: true },
  { name: 'title', type: 'text' },
]

export function runTxidSuite(name: string, fixtures: SqlFixtureFactory<ChangeSource>): void {
  describe(name, () => {
    const cleanups: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    async function setup() {
      const fixture: SourceFixture = await fixtures.makeFixture()
      cleanups.push(() => fixture.close())
      const items = await fixture.createTable({ name: 'items', columns })
      const other = await fixture.createTable({ name: 'other', columns })
      await fixture.insert(items, { id: 1, title: 'one' })
      const handler: ShapeHandler = createShapeHandler({ source: fixture.source })
      cleanups.push(() => handler.close())
      const client = new ShapeClient({ fetch: (url, init) => handler(new Request(url, init)), visibility: null })
      cleanups.push(async () => client.dispose())
      const shape = client.shape<Item>({ url: 'http://txids.test/v1/shape', params: { table: items } })
      shape.retain()
      await shape.whenUpToDate()
      /** Runs `statements` in one transaction and returns its `pg_current_xact_id()::xid`. */
      const inTransaction = (statements: readonly string[]): Promise<string> =>
        fixtures.inTransaction(async (query) => {
          for (const statement of statements) await query(statement, [])
          const rows = await query('SELECT pg_current_xact_id()::xid::text AS txid', [])
          return String(rows[0]?.txid)
        })
      return { items, other, shape, inTransaction }
    }

    it("a transaction's pg_current_xact_id()::xid is the txid the client sees, also when it writes several tables", async () => {
      const { items, other, shape, inTransaction } = await setup()
      const txid = await inTransaction([
        `INSERT INTO "${other}" (id, title) VALUES (1, 'elsewhere')`,
        `INSERT INTO "${items}" (id, title) VALUES (2, 'two')`,
        `UPDATE "${items}" SET title = 'uno' WHERE id = 1`,
      ])
      expect(txid).toMatch(/^\d+$/)
      await shape.whenTxid(txid, { timeoutMs: 15_000 })
      expect(shape.getRow(shape.rowKey({ id: 2 }))).toEqual({ id: 2, title: 'two' })
      expect(shape.getRow(shape.rowKey({ id: 1 }))).toEqual({ id: 1, title: 'uno' })
      // Seen already: resolves at once, given as a number or a bigint too.
      await shape.whenTxid(Number(txid), { timeoutMs: 0 })
      await shape.whenTxid(BigInt(txid), { timeoutMs: 0 })
    })

    it('mutate shows the row at once and is confirmed by the txid of the real write', async () => {
      const { items, shape, inTransaction } = await setup()
      const key = shape.rowKey({ id: 3 })
      let committed: string | undefined
      const confirmed = shape.mutate({
        apply: (draft) => draft.insert({ id: 3, title: 'three' }),
        commit: async () => ({ txid: (committed = await inTransaction([`INSERT INTO "${items}" (id, title) VALUES (3, 'three')`])) }),
        timeoutMs: 15_000,
      })
      expect(shape.getSnapshot().isPending(key)).toBe(true)
      expect(shape.getRow(key)).toEqual({ id: 3, title: 'three' })
      const result = await confirmed
      expect(result).toEqual({ txids: [committed] })
      expect(shape.getSnapshot().isPending(key)).toBe(false)
      expect(shape.getRow(key)).toEqual({ id: 3, title: 'three' })
    })

    it('a transaction touching no row of the shape never shows up: whenTxid times out and says why', async () => {
      const { items, other, shape, inTransaction } = await setup()
      const elsewhere = await inTransaction([`INSERT INTO "${other}" (id, title) VALUES (5, 'not in the shape')`])
      const later = await inTransaction([`INSERT INTO "${items}" (id, title) VALUES (6, 'six')`])
      await shape.whenTxid(later, { timeoutMs: 15_000 })
      // The stream is past `elsewhere` (it committed before `later`), and it never came.
      const error = await shape.whenTxid(elsewhere, { timeoutMs: 200 }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(TxidTimeoutError)
      expect((error as Error).message).toMatch(/touches no row of this shape never shows up/)
    })
  })
}
