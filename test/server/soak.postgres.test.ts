/**
 * Soak on PostgreSQL (support/sqlSoak.ts): the logical-replication source of the dev server, with the writer on a
 * pooled connection, one transaction after another (concurrent transactions would commit in an order the soak's model
 * cannot know, so no bursts here).
 */
import { afterAll, beforeAll, describe, inject, it } from 'vitest'
import { postgresFixtures } from './support/sqlFixture'
import { soakWriteMs } from './support/soakShapes'
import { runSqlSoak, soakTimeoutMs } from './support/sqlSoak'

const WRITE_MS = soakWriteMs(8_000)
const fixtures = postgresFixtures(inject('databaseUrl'))
beforeAll(() => fixtures.source(), 60_000)
afterAll(() => fixtures.dispose())

describe('soak on PostgreSQL: 10 live shapes, a SQL writer, periodic cuts', () => {
  it(`delivers every transaction once, whole and in order (${WRITE_MS / 1000} s of writes)`, async () => {
    const table = `soak_${process.pid}_${Date.now().toString(36)}`
    try {
      await runSqlSoak(
        {
          name: 'PostgreSQL',
          source: await fixtures.source(),
          table,
          query: async (sql, params = []) => (await fixtures.pool.query(sql, [...params])).rows as Record<string, unknown>[],
          transaction: (run) => fixtures.inTransaction(async (query) => run((sql, params = []) => query(sql, params))),
        },
        WRITE_MS,
      )
    } finally {
      await fixtures.pool.query(`DROP TABLE IF EXISTS "${table}"`)
    }
  }, soakTimeoutMs(WRITE_MS))
})
