import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PGlite } from '@electric-sql/pglite'
import { createPGliteSource } from '../../../src/server/sources/pglite'
import { pgliteFixtures } from '../support/sqlFixture'
import { visibleIn } from '../../../src/server/shapeRegistry'
import { describeSqlSourceCases, racingTable, recordTransactions, replay } from '../support/sqlSourceCases'
import { createShapeHandler } from '../../../src/server/handler'
import { call, initialSync, liveUntil, shapeUrl, type WireMessage } from '../support/shapeHttp'

const fixtures = pgliteFixtures()
const factory = { ...fixtures, exec: async (sql: string) => void (await (await fixtures.source()).db.exec(sql)) }

afterAll(() => fixtures.dispose())

describeSqlSourceCases('pglite', factory)

describe('pglite source', { timeout: 30_000 }, () => {
  beforeAll(() => fixtures.source(), 120_000)

  it('puts each transaction queued around a snapshot either in it or after it, never both, never neither', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const { table, description, recorder } = await racingTable(source, fixture)
    const insert = (id: number) => source.db.query(`INSERT INTO "${table}" (id, n) VALUES ($1, $1)`, [id])
    // PGlite runs queued work in call order: the snapshot lands between the writes issued before and after it.
    const before = [insert(1), source.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO "${table}" (id, n) VALUES (2, 2), (3, 3)`)
      await tx.query(`UPDATE "${table}" SET n = 10 WHERE id = 1`)
    })]
    let deliveredBeforeSnapshot = -1
    const snapshot = source
      .snapshot({ table: description, where: undefined, params: [] })
      .then((result) => {
        deliveredBeforeSnapshot = recorder.on(table).length
        return result
      })
    const after = [insert(4), source.db.query(`UPDATE "${table}" SET n = 20 WHERE id = 2`), insert(5)]
    await Promise.all([...before, ...after])
    const result = await snapshot
    await recorder.waitFor(() => recorder.on(table).length === 5)

    expect(Object.fromEntries(result.rows.map((row) => [row['id'], row['n']]))).toEqual({ '1': '10', '2': '2', '3': '3' })
    const delivered = recorder.on(table)
    const visible = delivered.filter((transaction) => visibleIn(result, transaction.xid))
    const invisible = delivered.filter((transaction) => !visibleIn(result, transaction.xid))
    // The snapshot is exactly the visible transactions; it plus the invisible ones is exactly the final table.
    expect(replay([], visible, table)).toEqual(replay(result.rows, [], table))
    const final = await source.snapshot({ table: description, where: undefined, params: [] })
    expect(replay(result.rows, invisible, table)).toEqual(replay(final.rows, [], table))
    expect(delivered.map((transaction) => visibleIn(result, transaction.xid))).toEqual([true, true, false, false, false])
    expect(deliveredBeforeSnapshot).toBe(2)
    expect(result.lsn).toBe(delivered[1]?.lsn)
    recorder.stop()
    await fixture.close()
  })

  it('delivers a transaction whose change ids cross a power of ten once, whole and in order', async () => {
    // A fresh database, so the change ids are known: 1..8 go to a first transaction, 9..14 to the second. Ordering
    // the change rows by their text form ('10' < '9') delivered 10..14 and then 9, so a key change made early in the
    // transaction came last, and 10..14 a second time (the unexplained PGlite fault cases).
    const source = await createPGliteSource()
    try {
      await source.db.exec('CREATE TABLE digits (id int4 PRIMARY KEY, n int4 NOT NULL)')
      await source.describeTable('public', 'digits')
      const recorder = recordTransactions(source)
      await source.db.exec(`INSERT INTO digits (id, n) SELECT g, 0 FROM generate_series(1, 8) AS g`)
      await recorder.waitFor(() => recorder.transactions.length === 1)
      await source.db.transaction(async (tx) => {
        await tx.query('UPDATE digits SET id = 100 WHERE id = 1')
        await tx.query('UPDATE digits SET id = 101 WHERE id = 100')
        for (const id of [2, 3, 4, 5]) await tx.query('DELETE FROM digits WHERE id = $1', [id])
      })
      await recorder.waitFor(() => recorder.transactions.length >= 2)
      // Anything delivered late would arrive with the next notification: make one and wait for it.
      await source.db.exec('INSERT INTO digits (id, n) VALUES (200, 0)')
      await recorder.waitFor(() => recorder.transactions.length >= 3)
      expect(recorder.transactions.map((transaction) => transaction.lsn)).toEqual([8n, 14n, 15n])
      const second = recorder.transactions[1]?.changes.map((change) => [change.operation, change.oldRow?.['id'] ?? null, change.row['id']])
      expect(second).toEqual([
        ['update', '1', '100'],
        ['update', '100', '101'],
        ['delete', null, '2'],
        ['delete', null, '3'],
        ['delete', null, '4'],
        ['delete', null, '5'],
      ])
      recorder.stop()
    } finally {
      await source.close()
    }
  })

  it('installs capture idempotently and stops capturing a table nobody described', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const described = await fixture.createTable({ name: 'captured', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    const ignored = await fixture.createTable({ name: 'ignored', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    await source.describeTable('public', described)
    await source.describeTable('public', described)
    const triggers = await source.db.query<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`,
      [`"${described}"`],
    )
    // One row trigger and one statement trigger for TRUNCATE, however often the table is described.
    expect(triggers.rows.map((row) => row.tgname)).toEqual(['live_shapes_capture', 'live_shapes_capture_truncate'])
    expect(await source.describeTable('live_shapes', 'changes')).toBeUndefined()
    const recorder = recordTransactions(source)
    await fixture.insert(ignored, { id: 1 })
    await fixture.insert(described, { id: 1 })
    await recorder.waitFor(() => recorder.on(described).length === 1)
    expect(recorder.on(ignored)).toEqual([])
    const left = await source.db.query<{ count: number }>('SELECT count(*)::int AS count FROM live_shapes.changes')
    expect(left.rows[0]?.count).toBe(0)
    recorder.stop()
    await fixture.close()
  })

  it('a partitioned table and one of its partitions, both served: each shape gets its rows live, however they are written', async () => {
    const source = await fixtures.source()
    await source.db.exec(`
      CREATE TABLE parted (id int4, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
      CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
      INSERT INTO parted VALUES (1, 'eu'), (2, 'us');`)
    const handler = createShapeHandler({ source, longPollTimeoutMs: 500 })
    try {
      const keys = (changes: WireMessage[]) => changes.map((change) => `${change.headers['operation']} ${change.value?.['id']}`)
      // The root first: its row trigger reaches the partitions, which must not stop a partition's own shape.
      const root = await initialSync(handler, { table: 'parted' })
      const eu = await initialSync(handler, { table: 'parted_eu' })
      expect(keys(root.messages.filter((message) => message.key !== undefined))).toEqual(['insert 1', 'insert 2'])
      expect(keys(eu.messages.filter((message) => message.key !== undefined))).toEqual(['insert 1'])
      await source.db.exec(`
        INSERT INTO parted VALUES (3, 'eu');
        INSERT INTO parted_us VALUES (4, 'us');
        UPDATE parted SET region = 'us' WHERE id = 1;`)
      const rootLive = await liveUntil(handler, { table: 'parted' }, root.position, (found) => found.length >= 4)
      expect(keys(rootLive.changes)).toEqual(['insert 3', 'insert 4', 'delete 1', 'insert 1'])
      const euLive = await liveUntil(handler, { table: 'parted_eu' }, eu.position, (found) => found.length >= 2)
      expect(keys(euLive.changes)).toEqual(['insert 3', 'delete 1'])
      // A served partition's TRUNCATE empties part of the root's shape too: its clients resync.
      await source.db.exec('TRUNCATE parted_eu')
      const truncated = await call(handler, shapeUrl({ table: 'parted', offset: rootLive.position.offset, handle: rootLive.position.handle, live: 'true' }))
      expect(truncated.status).toBe(409)
    } finally {
      await handler.close()
      await source.db.exec('DROP TABLE parted')
    }
  })

  it('delivers an ALTER TABLE that changes a captured table at its commit, under the name it was described by', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const alter = (table: string, clause: string) => fixture.alterTable?.(table, clause)
    const columns = [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'n', type: 'int4' }]
    const table = await fixture.createTable({ name: 'altered', columns })
    const ignored = await fixture.createTable({ name: 'not_described', columns })
    await source.describeTable('public', table)
    const recorder = recordTransactions(source)
    const changed = () => recorder.transactions.flatMap((transaction) => transaction.schemaChanged ?? [])
    await alter(table, 'ADD CONSTRAINT positive CHECK (id > 0)')
    await alter(ignored, 'ADD COLUMN note text')
    await alter(table, 'ADD COLUMN note text')
    await recorder.waitFor(() => changed().length === 1)
    // Only the column change of the described table, alone in its transaction: no row change was needed.
    expect(recorder.transactions).toEqual([
      { xid: expect.any(String), lsn: expect.any(BigInt), changes: [], truncated: [], schemaChanged: [{ schema: 'public', table }] },
    ])
    await alter(table, 'ALTER COLUMN n SET NOT NULL')
    await recorder.waitFor(() => changed().length === 2)
    const renamed = `${table}_renamed`
    await alter(table, `RENAME TO "${renamed}"`)
    await recorder.waitFor(() => changed().length === 3)
    expect(changed()).toEqual(Array.from({ length: 3 }, () => ({ schema: 'public', table })))
    // The stored name followed the rename: a later change is reported under the name shapes now describe.
    await alter(renamed, 'ADD COLUMN later text')
    await recorder.waitFor(() => changed().length === 4)
    expect(changed()[3]).toEqual({ schema: 'public', table: renamed })
    recorder.stop()
    await fixture.alterTable?.(renamed, `RENAME TO "${table}"`)
    await fixture.close()
  })

  it('continues LSNs above an earlier source on the same database and skips what it left behind', { timeout: 120_000 }, async () => {
    // Its own database: two sources never capture from one PGlite at the same time.
    const db = await PGlite.create()
    try {
      const first = await createPGliteSource({ db })
      await db.exec('CREATE TABLE resumed (id int4 PRIMARY KEY)')
      await first.describeTable('public', 'resumed')
      const recorder = recordTransactions(first)
      await db.query('INSERT INTO resumed VALUES (1)')
      await recorder.waitFor(() => recorder.on('resumed').length === 1)
      const earlier = recorder.on('resumed')[0]?.lsn ?? 0n
      await first.close()
      // Committed while no source ran, as after a crash between commit and read.
      await db.query('INSERT INTO resumed VALUES (99)')

      const second = await createPGliteSource({ db })
      expect(second.currentLsn()).toBeGreaterThan(earlier)
      const next = recordTransactions(second)
      await second.describeTable('public', 'resumed')
      await db.query('INSERT INTO resumed VALUES (2)')
      await next.waitFor(() => next.on('resumed').length === 1)
      expect(next.on('resumed').map((transaction) => transaction.changes.map((change) => change.row['id']))).toEqual([['2']])
      expect(next.on('resumed')[0]?.lsn).toBeGreaterThan(second.currentLsn() - 1n)
      expect(next.on('resumed')[0]?.lsn).toBeGreaterThan(earlier)
      await second.close()
      expect(db.closed).toBe(false)
      // A caller-owned database keeps no event trigger of a closed source: its ALTERs run no capture code.
      const triggers = await db.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_catalog.pg_event_trigger WHERE evtname = 'live_shapes_capture_ddl'",
      )
      expect(triggers.rows[0]?.count).toBe(0)
    } finally {
      await db.close()
    }
  })
})
