/**
 * Behaviour both SQL sources share (the `ChangeSource` invariants of source.ts on delivery, text values and old rows;
 * describeTable), run against each by its own test file. Source-specific cases (snapshot consistency races, capture
 * installation, reconnects) live in the per-source files, which also dispose of the shared source in a file-level
 * `afterAll`.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { WireRow } from '../../../src/core/protocol'
import { setTextOutputForTransaction, TableChangedError, TEXT_OUTPUT_SETTINGS, type SqlQuery } from '../../../src/server/sources/describeTable'
import type { ChangeSource, TableDescription, Transaction } from '../../../src/server/sources/source'
import { compileWhere } from '../../../src/server/whereClause'
import type { SourceFixture } from './fixture'
import { uniqueTableName, type SqlFixtureFactory } from './sqlFixture'

/** Collects the transactions a source delivers and waits, event-driven, for a condition over them. */
export interface TransactionRecorder {
  readonly transactions: Transaction[]
  /** Transactions with at least one change on `table`, in delivery order. */
  on(table: string): Transaction[]
  /** Resolves as soon as `condition` holds (checked now and after every delivered transaction). */
  waitFor(condition: () => boolean): Promise<void>
  stop(): void
}

export function recordTransactions(source: ChangeSource): TransactionRecorder {
  const transactions: Transaction[] = []
  const waiters = new Set<{ condition: () => boolean; resolve: () => void }>()
  const unsubscribe = source.subscribe((transaction) => {
    transactions.push(transaction)
    for (const waiter of [...waiters]) {
      if (waiter.condition()) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
  })
  return {
    transactions,
    on: (table) => transactions.filter((transaction) => transaction.changes.some((change) => change.table === table)),
    waitFor(condition) {
      if (condition()) return Promise.resolve()
      return new Promise((resolve) => waiters.add({ condition, resolve }))
    },
    stop: unsubscribe,
  }
}

/**
 * The snapshot race tests' table: a fresh `racing (id int4 primary key, n int4)`, described by `source`, and a recorder
 * of the transactions delivered from then on.
 */
export async function racingTable<S extends ChangeSource>(
  source: S,
  fixture: SourceFixture,
): Promise<{ table: string; description: TableDescription; recorder: TransactionRecorder }> {
  const table = await fixture.createTable({
    name: 'racing',
    columns: [
      { name: 'id', type: 'int4', primaryKey: true },
      { name: 'n', type: 'int4' },
    ],
  })
  const description = await source.describeTable('public', table)
  if (description === undefined) throw new Error('table not described')
  return { table, description, recorder: recordTransactions(source) }
}

/** Applies transactions' changes for `table` to rows keyed by `key`, as a shape consumer would. */
export function replay(
  rows: readonly WireRow[],
  transactions: readonly Transaction[],
  table: string,
  key = 'id',
): Map<string | null | undefined, WireRow> {
  const state = new Map(rows.map((row) => [row[key], row]))
  for (const transaction of transactions) {
    for (const change of transaction.changes) {
      if (change.table !== table) continue
      if (change.operation === 'delete') state.delete(change.row[key])
      else {
        if (change.oldRow !== undefined) state.delete(change.oldRow[key])
        state.set(change.row[key], change.row)
      }
    }
  }
  return state
}

const itemColumns = [
  { name: 'id', type: 'int8', primaryKey: true },
  { name: 'title', type: 'text' },
  { name: 'priority', type: 'int4' },
  { name: 'done', type: 'bool' },
]

export function describeSqlSourceCases<S extends ChangeSource>(
  name: string,
  factory: SqlFixtureFactory<S> & { exec(sql: string): Promise<void> },
): void {
  // Explicit timeouts: a database per file starts slowly on a loaded 2-core machine (PGlite takes ~6-15 s).
  describe(`${name} source (shared SQL cases)`, { timeout: 30_000 }, () => {
    beforeAll(() => factory.source(), 120_000)

    it('sets the text output settings for the snapshot transaction only, in one round trip', async () => {
      const names = TEXT_OUTPUT_SETTINGS.map((setting) => setting.name)
      const show = async (query: SqlQuery) => {
        const rows = await query(`SELECT ${names.map((_, index) => `current_setting($${index + 1}) AS s${index}`).join(', ')}`, names)
        return Object.fromEntries(names.map((name, index) => [name, rows[0]?.[`s${index}`]]))
      }
      const before = await factory.inTransaction(show)
      const inside = await factory.inTransaction(async (query) => {
        let roundTrips = 0
        await setTextOutputForTransaction((sql, params) => {
          roundTrips += 1
          return query(sql, params)
        })
        return { roundTrips, settings: await show(query) }
      })
      expect(inside).toEqual({
        roundTrips: 1,
        settings: Object.fromEntries(TEXT_OUTPUT_SETTINGS.map((setting) => [setting.name, setting.value])),
      })
      expect(before).not.toEqual(inside.settings)
      expect(await factory.inTransaction(show)).toEqual(before)
    })

    it('describes columns in order with element types, dims, typmods, not-null and primary key order', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'described', columns: [{ name: 'placeholder', type: 'int4' }] })
      await factory.exec(`DROP TABLE "${table}"`)
      await factory.exec(
        `CREATE TABLE "${table}" (a int4, tags text[], grid int4[][], label varchar(20) NOT NULL,
           amount numeric(10,2), b uuid, PRIMARY KEY (b, a))`,
      )
      const described = await source.describeTable('public', table)
      expect(described).toEqual({
        schema: 'public',
        name: table,
        columns: [
          { name: 'a', type: 'int4', dims: 0, notNull: true, pkIndex: 1, typeMod: -1 },
          { name: 'tags', type: 'text', dims: 1, notNull: false, pkIndex: undefined, typeMod: -1 },
          { name: 'grid', type: 'int4', dims: 2, notNull: false, pkIndex: undefined, typeMod: -1 },
          { name: 'label', type: 'varchar', dims: 0, notNull: true, pkIndex: undefined, typeMod: 20 + 4 },
          { name: 'amount', type: 'numeric', dims: 0, notNull: false, pkIndex: undefined, typeMod: ((10 << 16) | 2) + 4 },
          { name: 'b', type: 'uuid', dims: 0, notNull: true, pkIndex: 0, typeMod: -1 },
        ],
        primaryKey: ['b', 'a'],
      })
      await fixture.close()
    })

    it('streams the changes of a table dropped and created again under the same name (a dev reset) once described again', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const columns = [{ name: 'id', type: 'int4', primaryKey: true }]
      const table = await fixture.createTable({ name: 'recreated', columns })
      const marker = await fixture.createTable({ name: 'marker', columns })
      await source.describeTable('public', table)
      await source.describeTable('public', marker)
      await factory.exec(`DROP TABLE "${table}"`)
      await factory.exec(`CREATE TABLE "${table}" (id int4 PRIMARY KEY)`)
      expect((await source.describeTable('public', table))?.name).toBe(table)
      const recorder = recordTransactions(source)
      try {
        await fixture.insert(table, { id: 1 })
        await fixture.insert(marker, { id: 1 })
        // The marker commits after the insert: once it is in, the insert was delivered or never will be.
        await recorder.waitFor(() => recorder.on(marker).length === 1)
        expect(recorder.on(table).flatMap((transaction) => transaction.changes.map((change) => change.row['id']))).toEqual(['1'])
      } finally {
        recorder.stop()
        await fixture.close()
      }
    })

    it('uses every column as the key of a table without a primary key, and knows no missing or other-schema table', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({
        name: 'keyless',
        columns: [
          { name: 'x', type: 'text' },
          { name: 'y', type: 'int4' },
        ],
      })
      expect((await source.describeTable('public', table))?.primaryKey).toEqual(['x', 'y'])
      expect(await source.describeTable('public', `${table}_missing`)).toBeUndefined()
      expect(await source.describeTable('pg_catalog', table)).toBeUndefined()
      await fixture.close()
    })

    it('describes a table named past 63 bytes by the name PostgreSQL truncates it to, the one its changes carry', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'l'.repeat(80), columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
      expect(table).toHaveLength(63)
      const description = await source.describeTable('public', `${table}_past_the_limit`)
      expect(description).toMatchObject({ schema: 'public', name: table })
      const recorder = recordTransactions(source)
      try {
        await fixture.insert(table, { id: 1 })
        await recorder.waitFor(() => recorder.on(table).length === 1)
      } finally {
        recorder.stop()
        await fixture.close()
      }
    })

    it('refuses a snapshot whose table description is out of date, retryably (describeTable.ts)', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'altered', columns: itemColumns })
      await fixture.insert(table, { id: 1, title: 'a', priority: 1, done: false })
      const before = await source.describeTable('public', table)
      if (before === undefined) throw new Error('table not described')
      expect((await source.snapshot({ table: before, where: undefined, params: [] })).rows).toHaveLength(1)
      await factory.exec(`ALTER TABLE "${table}" ADD COLUMN extra text`)
      await expect(source.snapshot({ table: before, where: undefined, params: [] })).rejects.toBeInstanceOf(TableChangedError)
      const after = await source.describeTable('public', table)
      if (after === undefined) throw new Error('table not described')
      expect((await source.snapshot({ table: after, where: undefined, params: [] })).rows).toEqual([
        { id: '1', title: 'a', priority: '1', done: expect.stringMatching(/^f/), extra: null },
      ])
      await fixture.close()
    })

    it('snapshots the rows matching a where with bound params, every value as text', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'snap', columns: itemColumns })
      const description = await source.describeTable('public', table)
      if (description === undefined) throw new Error('table not described')
      for (let id = 1; id <= 6; id++) {
        await fixture.insert(table, { id, title: id === 4 ? "it's" : `t${id}`, priority: id, done: id % 2 === 0 })
      }
      await fixture.insert(table, { id: 7, title: null, priority: 9, done: null })
      const result = await source.snapshot({
        table: description,
        where: '"priority" > $1 AND ("title" <> $2 OR "title" IS NULL)',
        params: ['2', 't5'],
      })
      const rows = [...result.rows].sort((a, b) => Number(a['id']) - Number(b['id']))
      expect(rows).toEqual([
        { id: '3', title: 't3', priority: '3', done: 'false' },
        { id: '4', title: "it's", priority: '4', done: 'true' },
        { id: '6', title: 't6', priority: '6', done: 'true' },
        { id: '7', title: null, priority: '9', done: null },
      ])
      const typed = await source.snapshot({ table: description, where: '"done" = $1 AND "id" < $2', params: ['false', '6'] })
      expect(typed.rows.map((row) => row['id']).sort()).toEqual(['1', '3', '5'])
      expect(BigInt(result.xmax)).toBeGreaterThanOrEqual(BigInt(result.xmin))
      expect(result.lsn).toBeLessThanOrEqual(source.currentLsn())
      await expect(
        source.snapshot({ table: description, where: '"no_such_column" = $1', params: ['1'] }),
      ).rejects.toThrow(/no_such_column/)
      await fixture.close()
    })

    it('delivers transactions once each, in commit order, with strictly increasing LSNs and their own xids', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'ordered', columns: itemColumns })
      await source.describeTable('public', table)
      const recorder = recordTransactions(source)
      const before = source.currentLsn()
      for (let id = 1; id <= 5; id++) await fixture.insert(table, { id, title: `t${id}`, priority: id, done: false })
      await recorder.waitFor(() => recorder.on(table).length === 5)
      const delivered = recorder.on(table)
      expect(delivered.map((transaction) => transaction.changes.map((change) => change.row['id']))).toEqual([
        ['1'],
        ['2'],
        ['3'],
        ['4'],
        ['5'],
      ])
      const lsns = delivered.map((transaction) => transaction.lsn)
      expect(lsns[0]).toBeGreaterThan(before)
      for (let index = 1; index < lsns.length; index++) expect(lsns[index]).toBeGreaterThan(lsns[index - 1] ?? 0n)
      expect(new Set(delivered.map((transaction) => transaction.xid)).size).toBe(5)
      expect(source.currentLsn()).toBeGreaterThanOrEqual(lsns[4] ?? 0n)
      recorder.stop()
      await fixture.close()
    })

    it('groups a multi-statement transaction over two tables into one, in statement order, with full old rows', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const first = await fixture.createTable({ name: 'grouped_a', columns: itemColumns })
      const second = await fixture.createTable({ name: 'grouped_b', columns: itemColumns })
      await source.describeTable('public', first)
      await source.describeTable('public', second)
      const recorder = recordTransactions(source)
      await fixture.insert(first, { id: 1, title: 'one', priority: 1, done: false })
      await fixture.transaction(async (tx) => {
        await tx.insert(second, { id: 1, title: 'b-one', priority: 5, done: true })
        await tx.update(first, { id: 1 }, { title: 'uno', done: true })
        await tx.insert(first, { id: 2, title: 'two', priority: 2, done: false })
        await tx.delete(first, { id: 2 })
      })
      await recorder.waitFor(() => recorder.on(second).length === 1)
      const [transaction] = recorder.on(second)
      expect(recorder.on(first)).toHaveLength(2)
      expect(recorder.on(first)[1]).toBe(transaction)
      expect(transaction?.changes).toEqual([
        { schema: 'public', table: second, operation: 'insert', row: { id: '1', title: 'b-one', priority: '5', done: 'true' }, oldRow: undefined },
        {
          schema: 'public',
          table: first,
          operation: 'update',
          row: { id: '1', title: 'uno', priority: '1', done: 'true' },
          oldRow: { id: '1', title: 'one', priority: '1', done: 'false' },
        },
        { schema: 'public', table: first, operation: 'insert', row: { id: '2', title: 'two', priority: '2', done: 'false' }, oldRow: undefined },
        { schema: 'public', table: first, operation: 'delete', row: { id: '2', title: 'two', priority: '2', done: 'false' }, oldRow: undefined },
      ])
      recorder.stop()
      await fixture.close()
    })

    it('reports a primary-key change as one update whose old row has the old key', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({ name: 'rekeyed', columns: itemColumns })
      await source.describeTable('public', table)
      const recorder = recordTransactions(source)
      await fixture.insert(table, { id: 1, title: 'one', priority: 1, done: false })
      await fixture.update(table, { id: 1 }, { id: 10 })
      await fixture.delete(table, { id: 10 })
      await recorder.waitFor(() => recorder.on(table).length === 3)
      expect(recorder.on(table).slice(1).map((transaction) => transaction.changes)).toEqual([
        [
          {
            schema: 'public',
            table,
            operation: 'update',
            row: { id: '10', title: 'one', priority: '1', done: 'false' },
            oldRow: { id: '1', title: 'one', priority: '1', done: 'false' },
          },
        ],
        [{ schema: 'public', table, operation: 'delete', row: { id: '10', title: 'one', priority: '1', done: 'false' }, oldRow: undefined }],
      ])
      recorder.stop()
      await fixture.close()
    })

    it('gives the same text for a value in a snapshot and in a change', async () => {
      const source = await factory.source()
      const fixture = await factory.makeFixture()
      const table = await fixture.createTable({
        name: 'texts',
        columns: [
          { name: 'id', type: 'int4', primaryKey: true },
          { name: 'at', type: 'timestamptz' },
          { name: 'day', type: 'date' },
          { name: 'span', type: 'interval' },
          { name: 'ratio', type: 'float8' },
          { name: 'blob', type: 'bytea' },
          { name: 'doc', type: 'jsonb' },
          { name: 'list', type: 'int4[]' },
          { name: 'flag', type: 'bool' },
          { name: 'padded', type: 'char(4)' },
        ],
      })
      const description = await source.describeTable('public', table)
      if (description === undefined) throw new Error('table not described')
      const recorder = recordTransactions(source)
      await fixture.insert(table, {
        id: 1,
        at: '2024-03-05 06:07:08.5+02',
        day: '2024-03-05',
        span: '1 day 2 hours',
        ratio: 0.1,
        blob: '\\x0102',
        doc: '{"b": [1, "x"], "a": null}',
        list: '{1,NULL,3}',
        flag: true,
        padded: 'ab',
      })
      await recorder.waitFor(() => recorder.on(table).length === 1)
      const snapshot = await source.snapshot({ table: description, where: undefined, params: [] })
      const changed = recorder.on(table)[0]?.changes[0]?.row
      // Params are wire text whatever the column type.
      const matched = await source.snapshot({
        table: description,
        where: '"at" = $1 AND "blob" = $2 AND "doc" = $3 AND "flag" = $4 AND "list" = $5',
        params: ['2024-03-05 04:07:08.5+00', '\\x0102', '{"a": null, "b": [1, "x"]}', 'true', '{1,NULL,3}'],
      })
      expect(matched.rows).toHaveLength(1)
      expect(snapshot.rows).toEqual([changed])
      expect(changed).toMatchObject({
        at: '2024-03-05 04:07:08.5+00',
        span: 'P1DT2H',
        ratio: '0.1',
        blob: '\\x0102',
        list: '{1,NULL,3}',
        flag: 'true',
        padded: 'ab  ',
      })
      recorder.stop()
      await fixture.close()
    })

    it("gives a value's output text in snapshots and changes where its cast to text differs (inet, domains)", async () => {
      const source = await factory.source()
      const table = uniqueTableName('casts')
      const padded = `${table}_padded`
      const flag = `${table}_flag`
      await factory.exec(`CREATE DOMAIN "${padded}" AS char(4); CREATE DOMAIN "${flag}" AS bool;
        CREATE TABLE "${table}" (id int4 PRIMARY KEY, n int4, ip inet, code "${padded}", ok "${flag}")`)
      const description = await source.describeTable('public', table)
      if (description === undefined) throw new Error('table not described')
      const recorder = recordTransactions(source)
      await factory.exec(`INSERT INTO "${table}" VALUES (1, 0, '10.1.2.3', 'ab', true)`)
      await factory.exec(`UPDATE "${table}" SET n = 1`)
      await recorder.waitFor(() => recorder.on(table).length === 2)
      const snapshot = await source.snapshot({ table: description, where: undefined, params: [] })
      const [inserted, updated] = recorder.on(table).map((transaction) => transaction.changes[0])
      // What pgoutput sends: the output functions' text (no `/32`, padding kept, `t` for a domain over bool).
      expect(snapshot.rows).toEqual([{ id: '1', n: '1', ip: '10.1.2.3', code: 'ab  ', ok: 't' }])
      expect(inserted?.row).toEqual({ ...snapshot.rows[0], n: '0' })
      expect(updated?.row).toEqual(snapshot.rows[0])
      expect(updated?.oldRow).toEqual(inserted?.row)
      recorder.stop()
      await factory.exec(`DROP TABLE "${table}"; DROP DOMAIN "${padded}"; DROP DOMAIN "${flag}"`)
    })

    it('matches a where on a domain cast to text the same in a snapshot and in a live change', async () => {
      const source = await factory.source()
      const table = uniqueTableName('domain_where')
      const padded = `${table}_padded`
      await factory.exec(`CREATE DOMAIN "${padded}" AS char(4); CREATE TABLE "${table}" (id int4 PRIMARY KEY, code "${padded}")`)
      const description = await source.describeTable('public', table)
      if (description === undefined) throw new Error('table not described')
      const recorder = recordTransactions(source)
      await factory.exec(`INSERT INTO "${table}" VALUES (1, 'ab')`)
      await recorder.waitFor(() => recorder.on(table).length === 1)
      const inserted = recorder.on(table)[0]?.changes[0]?.row ?? {}
      for (const text of ['ab', 'ab  ']) {
        const where = await compileWhere({ where: 'code::text = $1', params: [text], table: description })
        const snapshot = await source.snapshot({ table: description, where: where.sql, params: where.params })
        expect(snapshot.rows.length === 1, text).toBe(where.matches(inserted))
      }
      recorder.stop()
      await factory.exec(`DROP TABLE "${table}"; DROP DOMAIN "${padded}"`)
    })
  })
}
