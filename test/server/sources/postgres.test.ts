import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createPostgresSource, ReplicationStreamError } from '../../../src/server/sources/postgres'
import { postgresFixtures, uniqueTableName } from '../support/sqlFixture'
import { visibleIn } from '../../../src/server/shapeRegistry'
import { describeSqlSourceCases, racingTable, recordTransactions, replay } from '../support/sqlSourceCases'
import { createShapeHandler } from '../../../src/server/handler'
import { call, initialSync, liveUntil, shapeUrl } from '../support/shapeHttp'

const databaseUrl = inject('databaseUrl')
const fixtures = postgresFixtures(databaseUrl)
const factory = { ...fixtures, exec: async (sql: string) => void (await fixtures.pool.query(sql)) }

afterAll(() => fixtures.dispose())

describeSqlSourceCases('postgres', factory)

describe('postgres source', { timeout: 30_000 }, () => {
  beforeAll(() => fixtures.source(), 60_000)

  it('never puts a transaction both in a snapshot and after it, nor in neither, with commits racing it', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const { table, description, recorder } = await racingTable(source, fixture)
    const open = new pg.Client({ connectionString: databaseUrl })
    await open.connect()
    try {
      // In progress while the snapshot is taken (lands in xip), committed after it.
      await open.query('BEGIN')
      await open.query(`INSERT INTO "${table}" (id, n) VALUES (1, 1)`)
      await fixture.insert(table, { id: 2, n: 2 })
      // Commits racing the snapshot on other connections: each lands before, during or after it.
      const racing = Array.from({ length: 12 }, (_, index) => fixture.insert(table, { id: 10 + index, n: index }))
      const [result] = await Promise.all([
        source.snapshot({ table: description, where: undefined, params: [] }),
        ...racing,
      ])
      await open.query(`UPDATE "${table}" SET n = 100 WHERE id = 2`)
      await open.query('COMMIT')
      await recorder.waitFor(() => recorder.on(table).length === 14)

      const delivered = recorder.on(table)
      const inProgress = delivered.find((transaction) => transaction.changes.some((change) => change.row['id'] === '1'))
      expect(inProgress && result.xipList.includes(inProgress.xid)).toBe(true)
      expect(result.rows.map((row) => row['id'])).not.toContain('1')
      expect(result.rows.map((row) => row['id'])).toContain('2')
      const visible = delivered.filter((transaction) => visibleIn(result, transaction.xid))
      const invisible = delivered.filter((transaction) => !visibleIn(result, transaction.xid))
      expect(replay([], visible, table)).toEqual(replay(result.rows, [], table))
      const final = await source.snapshot({ table: description, where: undefined, params: [] })
      expect(replay(result.rows, invisible, table)).toEqual(replay(final.rows, [], table))
      expect(new Set(delivered.map((transaction) => transaction.xid)).size).toBe(delivered.length)
    } finally {
      await open.end()
      recorder.stop()
      await fixture.close()
    }
  })

  it('adds no trigger to a described table and sets REPLICA IDENTITY FULL', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const table = await fixture.createTable({ name: 'untouched', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    await source.describeTable('public', table)
    await source.describeTable('public', table)
    const { rows } = await fixtures.pool.query<{ triggers: number; identity: string; published: number }>(
      `SELECT (SELECT count(*)::int FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal) AS triggers,
              c.relreplident::text AS identity,
              (SELECT count(*)::int FROM pg_publication_tables WHERE pubname = $2 AND tablename = c.relname) AS published
         FROM pg_class c WHERE c.relname = $1`,
      [table, source.publicationName],
    )
    expect(rows).toEqual([{ triggers: 0, identity: 'f', published: 1 }])
    await fixture.close()
  })

  it("keeps a partition's TOASTed value and old row in an update of another column of a partitioned table", async () => {
    const source = await fixtures.source()
    const table = uniqueTableName('parted')
    await fixtures.pool.query(`CREATE TABLE "${table}" (id int4, k int4, n int4, big text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
      CREATE TABLE "${table}_1" PARTITION OF "${table}" FOR VALUES IN (1)`)
    try {
      const description = await source.describeTable('public', table)
      if (description === undefined) throw new Error('table not described')
      const recorder = recordTransactions(source)
      // md5 text does not compress below the TOAST threshold: the value is stored out of line.
      await fixtures.pool.query(`INSERT INTO "${table}" SELECT 1, 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 200) g`)
      await fixtures.pool.query(`UPDATE "${table}" SET n = 1`)
      await recorder.waitFor(() => recorder.on(table).length === 2)
      const [inserted, updated] = recorder.on(table).map((transaction) => transaction.changes[0])
      expect(inserted?.row['big']).toHaveLength(6400)
      // The partition logs its old rows by its own replica identity: without FULL on it, pgoutput leaves the
      // unchanged TOASTed value out of the new row and sends no old row (a where shape then inserts a partial row).
      expect(updated?.row).toEqual({ ...inserted?.row, n: '1' })
      expect(updated?.oldRow).toEqual(inserted?.row)
      recorder.stop()
    } finally {
      await fixtures.pool.query(`DROP TABLE "${table}"`)
    }
  })

  it('describes a new table from many requests at once: each gets it, and it joins the publication once', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const table = await fixture.createTable({ name: 'raced', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    // Shapes of one new table requested together (a page of components) all describe it before any has published it.
    const described = await Promise.all(Array.from({ length: 8 }, () => source.describeTable('public', table)))
    expect(described.map((description) => description?.name)).toEqual(Array(8).fill(table))
    const { rows } = await fixtures.pool.query<{ published: number }>(
      'SELECT count(*)::int AS published FROM pg_publication_tables WHERE pubname = $1 AND tablename = $2',
      [source.publicationName, table],
    )
    expect(rows).toEqual([{ published: 1 }])
    await fixture.close()
  })

  it('runs beside a second source on the same database (two dev servers): own slot and publication, and closing it breaks nothing', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const table = await fixture.createTable({ name: 'shared', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    // Started together, both describing the same table at once.
    const [second] = await Promise.all([createPostgresSource({ databaseUrl }), source.describeTable('public', table)])
    const recorder = recordTransactions(source)
    try {
      expect(second.slotName).not.toBe(source.slotName)
      expect(second.publicationName).not.toBe(source.publicationName)
      await Promise.all([second.describeTable('public', table), source.describeTable('public', table)])
      const secondRecorder = recordTransactions(second)
      await fixture.insert(table, { id: 1 })
      await secondRecorder.waitFor(() => secondRecorder.on(table).length === 1)
      await second.close()
      await fixture.insert(table, { id: 2 })
      await recorder.waitFor(() => recorder.on(table).length === 2)
      const { rows } = await fixtures.pool.query<{ published: number }>(
        'SELECT count(*)::int AS published FROM pg_publication_tables WHERE pubname = $1 AND tablename = $2',
        [source.publicationName, table],
      )
      expect(rows).toEqual([{ published: 1 }])
    } finally {
      recorder.stop()
      await second.close()
      await fixture.close()
    }
  })

  it('sees a column change with the next write of the table, even when the table was described again after the ALTER', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const columns = [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'n', type: 'int4' }]
    const table = await fixture.createTable({ name: 'altered', columns })
    const marker = await fixture.createTable({ name: 'marker', columns })
    await source.describeTable('public', table)
    await source.describeTable('public', marker)
    const recorder = recordTransactions(source)
    const changed = () => recorder.transactions.flatMap((transaction) => transaction.schemaChanged ?? [])
    await fixture.insert(table, { id: 1, n: 1 })
    await fixture.alterTable?.(table, 'ADD COLUMN note text')
    await fixture.insert(marker, { id: 1, n: 1 })
    await recorder.waitFor(() => recorder.on(marker).length === 1)
    // pgoutput sends no DDL: nothing is known until the table's next change.
    expect(changed()).toEqual([])
    expect(await source.describeTable('public', table)).toMatchObject({ columns: [{ name: 'id' }, { name: 'n' }, { name: 'note' }] })
    await fixture.insert(table, { id: 2, n: 2, note: 'x' })
    await recorder.waitFor(() => recorder.on(table).length === 2)
    const [, altered] = recorder.on(table)
    expect(altered?.schemaChanged).toEqual([{ schema: 'public', table }])
    expect(altered?.changes.map((change) => change.row)).toEqual([{ id: '2', n: '2', note: 'x' }])
    await fixture.insert(table, { id: 3, n: 3, note: 'y' })
    await recorder.waitFor(() => recorder.on(table).length === 3)
    expect(recorder.on(table)[2]?.schemaChanged).toEqual([])
    recorder.stop()
    await fixture.close()
  })

  it('refuses a shape that selects or filters on a generated column, which pgoutput leaves out of every change', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const table = await fixture.createTable({ name: 'generated', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'a', type: 'int4' }] })
    await fixtures.pool.query(`ALTER TABLE "${table}" ADD COLUMN doubled int4 GENERATED ALWAYS AS (a * 2) STORED`)
    await fixtures.pool.query(`INSERT INTO "${table}" (id, a) VALUES (1, 2)`)
    const handler = createShapeHandler({ source, longPollTimeoutMs: 1_000 })
    try {
      // Served, its live changes would carry no `doubled`: an insert without it, an update leaving it stale.
      const whole = await call(handler, shapeUrl({ table, offset: '-1' }))
      expect(whole.status).toBe(400)
      expect(whole.body.errors.columns).toEqual([expect.stringMatching(/^The following columns are generated and cannot be included in the shape: doubled\./)])
      const filtered = await call(handler, shapeUrl({ table, offset: '-1', columns: 'id,a', where: 'doubled > 0' }))
      expect(filtered.status).toBe(400)
      expect(filtered.body.errors.where).toEqual([expect.stringMatching(/generated columns.*: doubled$/)])
      // Without it the shape is served and live.
      const params = { table, columns: 'id,a' }
      const { position } = await initialSync(handler, params)
      await fixtures.pool.query(`UPDATE "${table}" SET a = 7 WHERE id = 1`)
      const { changes } = await liveUntil(handler, params, position, (found) => found.length > 0)
      expect(changes.map((change) => change.value)).toEqual([{ id: '1', a: '7' }])
    } finally {
      await handler.close()
      await fixture.close()
    }
  })

  it('reopens a dropped replication connection without losing or repeating a transaction', async () => {
    const source = await fixtures.source()
    const fixture = await fixtures.makeFixture()
    const table = await fixture.createTable({ name: 'resumed', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    await source.describeTable('public', table)
    const recorder = recordTransactions(source)
    await fixture.insert(table, { id: 1 })
    await recorder.waitFor(() => recorder.on(table).length === 1)
    const killed = await fixtures.pool.query(
      'SELECT pg_terminate_backend(active_pid) AS done FROM pg_replication_slots WHERE slot_name = $1 AND active',
      [source.slotName],
    )
    expect(killed.rowCount).toBe(1)
    await fixture.insert(table, { id: 2 })
    await fixture.insert(table, { id: 3 })
    await recorder.waitFor(() => recorder.on(table).length >= 3)
    expect(recorder.on(table).map((transaction) => transaction.changes[0]?.row['id'])).toEqual(['1', '2', '3'])
    expect(source.state).toBe('streaming')
    expect(source.failure()).toBeUndefined()
    recorder.stop()
    await fixture.close()
  })

  it('refuses slot and publication names PostgreSQL or the replication command cannot take, creating nothing', async () => {
    await expect(createPostgresSource({ databaseUrl, slotName: 'Bad-Name' })).rejects.toThrow(/slotName must be/)
    await expect(createPostgresSource({ databaseUrl, publicationName: "it's" })).rejects.toThrow(/publicationName must be/)
    const { rows } = await fixtures.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM pg_publication WHERE pubname = 'it''s'`,
    )
    expect(rows[0]?.count).toBe(0)
  })

  it('replaces an inactive leftover slot of the same name', async () => {
    await fixtures.pool.query("SELECT pg_create_logical_replication_slot('live_shapes_leftover', 'pgoutput')")
    const source = await createPostgresSource({ databaseUrl, slotName: 'live_shapes_leftover' })
    expect(source.state).toBe('streaming')
    await source.close()
    const { rows } = await fixtures.pool.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_replication_slots WHERE slot_name = 'live_shapes_leftover'",
    )
    expect(rows[0]?.count).toBe(0)
  })

  it('gives up after its reconnect budget with a typed error, and drops its slot and publication on close', async () => {
    const errors: ReplicationStreamError[] = []
    const failed = new Promise<void>((resolve) => {
      void createPostgresSource({
        databaseUrl,
        maxReconnectAttempts: 0,
        onError: (error) => {
          errors.push(error)
          resolve()
        },
      }).then(async (source) => {
        lone = source
        await fixtures.pool.query(
          'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active',
          [source.slotName],
        )
      })
    })
    let lone: Awaited<ReturnType<typeof createPostgresSource>> | undefined
    await failed
    if (lone === undefined) throw new Error('source not created')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(ReplicationStreamError)
    expect(lone.state).toBe('failed')
    expect(lone.failure()).toBe(errors[0])
    await expect(lone.describeTable('public', 'anything')).rejects.toBeInstanceOf(ReplicationStreamError)
    const { slotName, publicationName } = lone
    await lone.close()
    const left = await fixtures.pool.query(
      `SELECT (SELECT count(*)::int FROM pg_replication_slots WHERE slot_name = $1) AS slots,
              (SELECT count(*)::int FROM pg_publication WHERE pubname = $2) AS publications`,
      [slotName, publicationName],
    )
    expect(left.rows[0]).toEqual({ slots: 0, publications: 0 })
  })
})
