/**
 * SourceFixture over SQL: the same fixture drives the PGlite and the PostgreSQL source, writing with real SQL.
 *
 * Invariants:
 * - One source per test file (PGlite starts in ~6 s; a PostgreSQL source owns a slot): `makeFixture` hands out
 *   fixtures over the file's shared source, `fixture.close()` releases only what the fixture made, and the
 *   file's `afterAll` calls `dispose()`.
 * - Table names are unique per fixture and per process (`<name>_<pid>_<n>`), so test files running in
 *   parallel against one PostgreSQL never share a table.
 * - Values are bound as text parameters (numbers and booleans formatted), never spliced into SQL.
 */
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite'
import pg from 'pg'
import { quoteIdentifier as quoteIdent } from '../../../src/server/identifiers'
import type { SqlQuery } from '../../../src/server/sources/describeTable'
import { createPGliteSource, TEXT_PARAMS, type PGliteSource } from '../../../src/server/sources/pglite'
import { createPostgresSource, type PostgresSource } from '../../../src/server/sources/postgres'
import type { ChangeSource } from '../../../src/server/sources/source'
import type { FixtureWrites, SourceFixture } from './fixture'

type Value = unknown

/** Runs SQL with bound params; the only thing the writes need from a connection. */
type Execute = (sql: string, params: readonly (string | null)[]) => Promise<unknown>

/** A file's shared source plus a factory of fixtures over it. */
export interface SqlFixtureFactory<S extends ChangeSource> {
  /** The shared source, created on first use. */
  source(): Promise<S>
  makeFixture(): Promise<SourceFixture>
  /** Runs `run` in one transaction of the source's database, with a query function that returns the rows. */
  inTransaction<T>(run: (query: SqlQuery) => Promise<T>): Promise<T>
  dispose(): Promise<void>
}

let tableCounter = 0

/** `<name>_<pid>_<n>`, lower case and within PostgreSQL's 63-byte identifier limit. */
export function uniqueTableName(name: string): string {
  tableCounter += 1
  const suffix = `_${process.pid}_${tableCounter}`
  return `${name.toLowerCase().slice(0, 63 - suffix.length)}${suffix}`
}

function text(value: Value): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return JSON.stringify(value)
}

function writes(execute: Execute): FixtureWrites {
  return {
    async insert(table, row) {
      const names = Object.keys(row)
      const placeholders = names.map((_, index) => `$${index + 1}`)
      await execute(
        `INSERT INTO ${quoteIdent(table)} (${names.map(quoteIdent).join(', ')}) VALUES (${placeholders.join(', ')})`,
        names.map((name) => text(row[name])),
      )
    },
    async update(table, key, changes) {
      const set = Object.keys(changes)
      const where = Object.keys(key)
      const params = [...set.map((name) => text(changes[name])), ...where.map((name) => text(key[name]))]
      await execute(
        `UPDATE ${quoteIdent(table)} SET ${set.map((name, index) => `${quoteIdent(name)} = $${index + 1}`).join(', ')}
          WHERE ${where.map((name, index) => `${quoteIdent(name)} = $${set.length + index + 1}`).join(' AND ')}`,
        params,
      )
    },
    async delete(table, key) {
      const where = Object.keys(key)
      await execute(
        `DELETE FROM ${quoteIdent(table)} WHERE ${where.map((name, index) => `${quoteIdent(name)} = $${index + 1}`).join(' AND ')}`,
        where.map((name) => text(key[name])),
      )
    },
    async truncate(table) {
      await execute(`TRUNCATE ${quoteIdent(table)}`, [])
    },
  }
}

function createTableSql(def: Parameters<SourceFixture['createTable']>[0], table: string): string {
  const columns = def.columns.map(
    (column) => `${quoteIdent(column.name)} ${column.type}${column.notNull === true ? ' NOT NULL' : ''}`,
  )
  const keys = def.columns.filter((column) => column.primaryKey === true).map((column) => quoteIdent(column.name))
  if (keys.length > 0) columns.push(`PRIMARY KEY (${keys.join(', ')})`)
  const replica = def.replicaFull === true ? `; ALTER TABLE ${quoteIdent(table)} REPLICA IDENTITY FULL` : ''
  return `CREATE TABLE ${quoteIdent(table)} (${columns.join(', ')})${replica}`
}

/** How a fixture reaches its database: parameterised writes, DDL scripts, and a transaction. */
interface SqlAccess {
  execute: Execute
  /** Runs a script of one or more statements without parameters. */
  ddl(sql: string): Promise<unknown>
  transaction(run: (execute: Execute) => Promise<void>): Promise<void>
}

/** A fixture over `source`; the tables it created are dropped by `close()`. */
function sqlFixture<S extends ChangeSource>(source: S, { execute, ddl, transaction }: SqlAccess): SourceFixture & { source: S } {
  const tables: string[] = []
  return {
    source,
    ...writes(execute),
    async createTable(def) {
      const table = uniqueTableName(def.name)
      await ddl(createTableSql(def, table))
      tables.push(table)
      return table
    },
    async alterTable(table, clause) {
      await ddl(`ALTER TABLE ${quoteIdent(table)} ${clause}`)
    },
    async transaction(fn) {
      await transaction((inTransaction) => fn(writes(inTransaction)))
    },
    async close() {
      for (const table of tables.splice(0)) await ddl(`DROP TABLE IF EXISTS ${quoteIdent(table)}`)
    },
  }
}

/** Fixtures over one PGlite source per file; tables live in `public`. */
export function pgliteFixtures(): SqlFixtureFactory<PGliteSource> {
  let shared: Promise<PGliteSource> | undefined
  const source = (): Promise<PGliteSource> => (shared ??= createPGliteSource())
  // The fixture's values are wire text: bind them as such, not by PGlite's inferred-type serializers.
  const onDb = (db: PGlite | PGliteTransaction): Execute => (sql, params) =>
    db.query(sql, [...params], { serializers: TEXT_PARAMS })
  return {
    source,
    async makeFixture() {
      const live = await source()
      return sqlFixture(live, {
        execute: onDb(live.db),
        ddl: (sql) => live.db.exec(sql),
        transaction: (run) => live.db.transaction((tx) => run(onDb(tx))),
      })
    },
    async inTransaction(run) {
      const live = await source()
      return live.db.transaction((tx) => run(async (sql, params) => (await tx.query<Record<string, unknown>>(sql, [...params])).rows))
    },
    async dispose() {
      if (shared !== undefined) await (await shared).close()
      shared = undefined
    },
  }
}

/** Fixtures over one PostgreSQL source (one slot) per file, writing through a small pool. */
export function postgresFixtures(databaseUrl: string): SqlFixtureFactory<PostgresSource> & { pool: pg.Pool } {
  let shared: Promise<PostgresSource> | undefined
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
  pool.on('error', () => undefined)
  const source = (): Promise<PostgresSource> => (shared ??= createPostgresSource({ databaseUrl }))
  const onPool: Execute = (sql, params) => pool.query(sql, [...params])
  return {
    pool,
    source,
    async makeFixture() {
      return sqlFixture(await source(), {
        execute: onPool,
        ddl: (sql) => pool.query(sql),
        transaction: (run) => inPoolTransaction(pool, run),
      })
    },
    inTransaction: (run) => inPoolTransaction(pool, run),
    async dispose() {
      if (shared !== undefined) await (await shared).close()
      shared = undefined
      await pool.end()
    },
  }
}

/** Runs `run` in one transaction on a pooled connection; rolls back when it throws. */
async function inPoolTransaction<T>(pool: pg.Pool, run: (query: SqlQuery) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await run(async (sql, params) => (await client.query(sql, [...params])).rows as Record<string, unknown>[])
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
