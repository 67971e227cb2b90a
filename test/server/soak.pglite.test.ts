/**
 * Soak on the embedded database (support/sqlSoak.ts): PGlite, where transactions issued at once run one after
 * another on its one connection, so the soak's bursts apply, each after a jump of the change id sequence to just below
 * the next power of ten (as a long-lived database's would be). A read of the captured change rows then holds
 * transactions on both sides of the boundary: the source read them in the text order of their ids until 2026-12-07
 * (`'10'` before `'9'`), which split and repeated transactions there; this soak fails on that code.
 */
import { describe, expect, it } from 'vitest'
import { createPGliteSource } from '../../src/server/sources/pglite'
import { soakWriteMs } from './support/soakShapes'
import { runSqlSoak, soakTimeoutMs } from './support/sqlSoak'

const WRITE_MS = soakWriteMs(8_000)

describe('soak on PGlite: 10 live shapes, a SQL writer, periodic cuts', () => {
  it(`delivers every transaction once, whole and in order (${WRITE_MS / 1000} s of writes)`, async () => {
    const source = await createPGliteSource()
    const query = async (sql: string, params: readonly unknown[] = []) => (await source.db.query<Record<string, unknown>>(sql, [...params])).rows
    let power = 100
    try {
      await runSqlSoak(
        {
          name: 'PGlite',
          source,
          table: 'soak',
          query,
          transaction: (run) => source.db.transaction(async (tx) => run(async (sql, params = []) => (await tx.query<Record<string, unknown>>(sql, [...params])).rows)),
          burst: {
            async before() {
              if (power < 1e15) power *= 10
              await query(`SELECT setval('live_shapes.changes_id_seq', greatest($1::bigint, (SELECT last_value FROM live_shapes.changes_id_seq)))`, [power - 3])
            },
          },
        },
        WRITE_MS,
      )
      // The run crossed several powers of ten of change ids, with transactions on both sides of each in one read.
      const [sequence] = await query('SELECT last_value::text AS last FROM live_shapes.changes_id_seq')
      expect(Number(sequence?.['last'])).toBeGreaterThan(100_000)
    } finally {
      await source.close()
    }
  }, soakTimeoutMs(WRITE_MS))
})
