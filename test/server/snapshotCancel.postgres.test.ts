/**
 * Snapshot queries on PostgreSQL under an abort or a timeout (postgres.ts, source.ts, snapshotGate.ts): the
 * running query is cancelled when its request aborts, so aborted requests do not hold the pool and another client's
 * new shape is answered while the aborted ones' table is still locked; `snapshotTimeoutMs` ends a stuck query.
 * Ordering, not wall-clock: the other client's answer arrives before the lock that blocks the aborted ones is
 * released.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import type { PostgresSource } from '../../src/server/sources/postgres'
import { postgresFixtures, uniqueTableName } from './support/sqlFixture'

const databaseUrl = inject('databaseUrl')
const fixtures = postgresFixtures(databaseUrl)
let source: PostgresSource
let locked: string
let free: string

beforeAll(async () => {
  source = await fixtures.source()
  locked = uniqueTableName('locked')
  free = uniqueTableName('free')
  for (const table of [locked, free]) {
    await fixtures.pool.query(`CREATE TABLE "${table}" (id int8 PRIMARY KEY, title text)`)
    await fixtures.pool.query(`INSERT INTO "${table}" SELECT n, 'row ' || n FROM generate_series(1, 5) AS n`)
  }
}, 60_000)

afterAll(async () => {
  for (const table of [locked, free]) await fixtures.pool.query(`DROP TABLE IF EXISTS "${table}"`)
  await fixtures.dispose()
})

/** Resolves once `count` backends wait for a lock on `table`, by asking PostgreSQL (bounded number of asks). */
async function lockWaiters(table: string, count: number): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const { rows } = await fixtures.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass`,
      [`"${table}"`],
    )
    if (rows[0]?.n === count) return
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  throw new Error(`never saw ${count} lock waiters on ${table}`)
}

/** Waits (a bounded number of turns) until no snapshot query runs or waits in `handler`'s gate. */
async function gateEmpty(handler: { stats(): { snapshotsRunning: number; snapshotsQueued: number } }): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    const { snapshotsRunning, snapshotsQueued } = handler.stats()
    if (snapshotsRunning === 0 && snapshotsQueued === 0) return
    await new Promise<void>((resolve) => setTimeout(resolve, 5))
  }
  expect(handler.stats()).toMatchObject({ snapshotsRunning: 0, snapshotsQueued: 0 })
}

/** Opens a transaction holding an ACCESS EXCLUSIVE lock on `table`; `release()` commits it. */
async function lockTable(table: string): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  await client.query('BEGIN')
  await client.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`)
  return {
    release: async () => {
      await client.query('COMMIT')
      await client.end()
    },
  }
}

describe('snapshot queries on PostgreSQL', { timeout: 30_000 }, () => {
  it('aborted requests cancel their queries: another client gets its new shape while their table is still locked', async () => {
    const handler = createShapeHandler({ source, maxConcurrentSnapshots: 2, maxQueuedSnapshots: 8 })
    // Described (and published) before the lock: only the snapshots meet it.
    expect((await handler(new Request(`http://t/v1/shape?table=${locked}&offset=-1`))).status).toBe(200)
    const lock = await lockTable(locked)
    try {
      const controllers = [1, 2, 3, 4].map(() => new AbortController())
      const stuck = controllers.map((controller, index) =>
        handler(
          new Request(`http://t/v1/shape?table=${locked}&offset=-1&where=${encodeURIComponent(`id > ${index}`)}`, {
            signal: controller.signal,
          }),
        ),
      )
      await lockWaiters(locked, 2)
      expect(handler.stats()).toMatchObject({ snapshotsRunning: 2 })
      for (const controller of controllers) controller.abort(new DOMException('client left', 'AbortError'))
      await Promise.allSettled(stuck)
      // The cancelled queries no longer wait for the lock, which is still held.
      await lockWaiters(locked, 0)
      const other = await handler(new Request(`http://t/v1/shape?table=${free}&offset=-1`))
      expect(other.status).toBe(200)
      expect(((await other.json()) as unknown[]).length).toBe(6)
      // A cancelled query leaves the gate when its client hears of the cancel, which can come a moment after
      // PostgreSQL stopped waiting for the lock.
      await gateEmpty(handler)
    } finally {
      await lock.release()
      await handler.close()
    }
    // The pool is whole again: a snapshot of the once-locked table works.
    const after = createShapeHandler({ source })
    expect((await after(new Request(`http://t/v1/shape?table=${locked}&offset=-1&where=id%20%3E%203`))).status).toBe(200)
    await after.close()
  })

  it('snapshotTimeoutMs ends a query stuck behind a lock with a 503 the client retries', async () => {
    const reported: unknown[] = []
    const handler = createShapeHandler({ source, snapshotTimeoutMs: 200, onError: (error) => reported.push(error) })
    const lock = await lockTable(locked)
    try {
      const response = await handler(new Request(`http://t/v1/shape?table=${locked}&offset=-1&where=id%20%3E%204`))
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).not.toBeNull()
      // The client gets a generic message; the database's text goes to onError only.
      expect(((await response.json()) as { message: string }).message).toBe('Could not create the shape')
      expect(reported.map(String).join('\n')).toMatch(/statement timeout/)
    } finally {
      await lock.release()
      await handler.close()
    }
  })
})
