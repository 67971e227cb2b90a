/**
 * The catalog query both SQL sources (PGlite and PostgreSQL) use to describe a table.
 *
 * Invariants:
 * - Only ordinary and partitioned tables resolve (`relkind` r/p): views, materialized views, sequences, indexes,
 *   composite types and foreign tables never do (they carry no changes, and a trigger or publication on them is
 *   either refused or wrong). Neither does a table in a system schema (`pg_catalog`, `information_schema`,
 *   `pg_toast`, any `pg_*`): the handler's allow-list refuses those first (tableAccess.ts); this is the second line.
 * - Columns come in `attnum` order, dropped columns excluded; arrays report their element type and `dims >= 1`;
 *   generated columns say so (`generated`).
 * - The primary key follows the index's key order; a table without one uses all its columns as the key.
 * - A description carries the catalog's schema and table names: a requested name past 63 bytes names the table
 *   PostgreSQL truncates it to (as it does in SQL), and keys, relations and live changes all use that name.
 * - The SQL is valid on PostgreSQL 15 and 18 (PGlite): catalog columns and functions that exist on both only.
 * - A snapshot checks, in its own transaction, that the table still has the description its request was built
 *   from, and fails with {@link TableChangedError} otherwise: a schema change that committed after the table was
 *   described and reached no shape in time (source.ts, on schema changes) cannot give a shape rows of other columns.
 */
import { quoteIdentifier } from '../identifiers'
import type { ColumnDescription, SnapshotRequest, TableDescription } from './source'

/** Runs one parameterized query and returns its rows; both `pg` and PGlite fit this. */
export type SqlQuery = (sql: string, params: readonly unknown[]) => Promise<readonly Record<string, unknown>[]>

const DESCRIBE_SQL = `
SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS name,
       CASE WHEN et.oid IS NULL THEN t.typname ELSE et.typname END AS type,
       CASE WHEN et.oid IS NULL THEN 0 ELSE GREATEST(a.attndims, 1) END AS dims,
       a.attnotnull AS not_null,
       a.atttypmod AS type_mod,
       a.attgenerated <> '' AS generated,
       array_position(pk.indkey::int2[], a.attnum) - array_lower(pk.indkey::int2[], 1) AS pk_position
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_type et ON t.typcategory = 'A' AND t.typelem <> 0 AND et.oid = t.typelem
  LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
 ORDER BY a.attnum`

/**
 * Describes `schema.name` (already unquoted) through `query`, or returns undefined when no such table exists.
 *
 * @example
 * const table = await describeTableWith((sql, params) => pool.query(sql, [...params]).then((r) => r.rows), 'public', 'items')
 */
export async function describeTableWith(
  query: SqlQuery,
  schema: string,
  name: string,
): Promise<TableDescription | undefined> {
  const rows = await query(DESCRIBE_SQL, [schema, name])
  if (rows.length === 0) return undefined
  const columns: ColumnDescription[] = rows.map((row) => {
    const pkPosition = row['pk_position']
    return {
      name: String(row['name']),
      type: String(row['type']),
      dims: Number(row['dims']),
      notNull: row['not_null'] === true,
      pkIndex: pkPosition === null || pkPosition === undefined ? undefined : Number(pkPosition),
      typeMod: Number(row['type_mod']),
      ...(row['generated'] === true ? { generated: true as const } : {}),
    }
  })
  const keyed = columns
    .filter((column) => column.pkIndex !== undefined)
    .sort((a, b) => (a.pkIndex ?? 0) - (b.pkIndex ?? 0))
    .map((column) => column.name)
  // The catalog's names, not the requested ones: PostgreSQL truncates a name past 63 bytes, and changes carry the
  // truncated one.
  return {
    schema: String(rows[0]?.['table_schema'] ?? schema),
    name: String(rows[0]?.['table_name'] ?? name),
    columns,
    primaryKey: keyed.length > 0 ? keyed : columns.map((column) => column.name),
  }
}

/** The table changed (or is gone) since the snapshot request's description was read; retrying re-describes it. */
export class TableChangedError extends Error {
  readonly code = 'table-changed' as const
  constructor(table: Pick<TableDescription, 'schema' | 'name'>) {
    super(`the columns of ${quoteQualified(table.schema, table.name)} changed while its snapshot was taken`)
    this.name = 'TableChangedError'
  }
}

/**
 * Throws {@link TableChangedError} unless `table` is still the table's description as `query`'s transaction sees it
 *. Call it inside the snapshot's transaction, so the description and the rows are read at one snapshot.
 */
export async function assertTableUnchanged(query: SqlQuery, table: TableDescription): Promise<void> {
  const now = await describeTableWith(query, table.schema, table.name)
  const shape = (description: TableDescription | undefined): string =>
    JSON.stringify(description === undefined ? null : { columns: description.columns, primaryKey: description.primaryKey })
  if (shape(now) !== shape(table)) throw new TableChangedError(table)
}

/** `"schema"."name"` with embedded quotes doubled, for splicing a described table into SQL. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`
}

/**
 * The snapshot's row query: every column as its text output, filtered by the validated `where`, then ordered
 * by the table's own column values (not their text) and offset and limited as `page` says. `where` uses `$1..$n`;
 * callers bind the params positionally.
 */
export function snapshotRowsSql(
  table: TableDescription,
  where: string | undefined,
  page: Pick<SnapshotRequest, 'orderBy' | 'offset' | 'limit'> = {},
): string {
  const qualified = quoteQualified(table.schema, table.name)
  const columns = table.columns.map((column) => `${textOf(column, quoteIdentifier(column.name))} AS ${quoteIdentifier(column.name)}`)
  const filter = where === undefined ? '' : ` WHERE (${where})`
  // Qualified: a bare name in ORDER BY means the output column, which is the text form and would sort as text.
  const terms = (page.orderBy ?? []).map(
    (term) => `${qualified}.${quoteIdentifier(term.column)} ${term.direction.toUpperCase()} NULLS ${term.nulls.toUpperCase()}`,
  )
  const order = terms.length === 0 ? '' : ` ORDER BY ${terms.join(', ')}`
  const offset = page.offset === undefined ? '' : ` OFFSET ${count(page.offset)}`
  const limit = page.limit === undefined ? '' : ` LIMIT ${count(page.limit)}`
  return `SELECT ${columns.join(', ')} FROM ${qualified}${filter}${order}${limit}${offset}`
}

/** A row count spliced into SQL: only a non-negative safe integer gets there. */
function count(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a row count: ${value}`)
  return String(value)
}

/**
 * Built-in scalar types whose cast to text is their output function (`bool` gives `true`/`false`, as Electric's
 * snapshots do). Any other type's cast may differ from what its output function, and so logical replication,
 * gives: `bpchar` drops its padding, `inet` adds a `/32` netmask, a domain casts as its base type does.
 */
const CAST_IS_OUTPUT = new Set([
  'bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'uuid', 'date', 'time',
  'timetz', 'timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'bytea',
])

/**
 * SQL giving a column's text output: `::text` for arrays (the array output function) and the types of
 * `CAST_IS_OUTPUT`; the output function itself otherwise (see {@link outputText}).
 */
export function textOf(column: Pick<ColumnDescription, 'type' | 'dims'>, expression: string): string {
  if (column.dims === 0 && !CAST_IS_OUTPUT.has(column.type)) return outputText(expression)
  return `${expression}::text`
}

/**
 * SQL giving the output function's text of `expression` of any type, or NULL: `concat` prints its argument with the
 * output function. `IS DISTINCT FROM NULL` rather than `IS NOT NULL`, which is false for a composite value whose
 * fields are all null.
 */
export function outputText(expression: string): string {
  return `CASE WHEN ${expression} IS DISTINCT FROM NULL THEN concat(${expression}) END`
}

/** Session settings that make text output match Electric's (dates ISO, UTC, hex bytea, shortest exact floats). */
export const TEXT_OUTPUT_SETTINGS: readonly { name: string; value: string }[] = [
  { name: 'DateStyle', value: 'ISO, DMY' },
  { name: 'TimeZone', value: 'UTC' },
  { name: 'extra_float_digits', value: '1' },
  { name: 'IntervalStyle', value: 'iso_8601' },
  { name: 'bytea_output', value: 'hex' },
]

const SET_TEXT_OUTPUT_SQL = `SELECT ${TEXT_OUTPUT_SETTINGS.map((_, index) => `set_config($${2 * index + 1}, $${2 * index + 2}, true)`).join(', ')}`
const SET_TEXT_OUTPUT_PARAMS: readonly string[] = TEXT_OUTPUT_SETTINGS.flatMap((setting) => [setting.name, setting.value])

/**
 * Applies `TEXT_OUTPUT_SETTINGS` to the open transaction only (`set_config(…, true)`), before its snapshot query:
 * one statement, so one round trip per snapshot.
 */
export async function setTextOutputForTransaction(query: SqlQuery): Promise<void> {
  await query(SET_TEXT_OUTPUT_SQL, SET_TEXT_OUTPUT_PARAMS)
}

/** The open transaction's visibility (`pg_current_snapshot()`), which tells the registry what its rows contain. */
export async function currentSnapshot(query: SqlQuery): Promise<{ xmin: string; xmax: string; xipList: string[] }> {
  const rows = await query('SELECT pg_current_snapshot()::text AS snapshot', [])
  const text = rows[0]?.['snapshot']
  if (typeof text !== 'string') throw new Error('pg_current_snapshot() returned no row')
  return parseSnapshotText(text)
}

/**
 * PostgreSQL's WAL insert position as a decimal bigint, read inside a snapshot's transaction: every commit visible in
 * the snapshot was inserted below it and every later commit is inserted at or above it. The insert position,
 * not the write position: with asynchronous commit a visible commit record may not be written yet.
 */
export async function currentWalInsertLsn(query: SqlQuery): Promise<bigint> {
  const rows = await query(`SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS lsn`, [])
  const text = rows[0]?.['lsn']
  if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new Error(`unexpected WAL insert LSN: ${String(text)}`)
  return BigInt(text)
}

/** Parses `pg_current_snapshot()`'s text form `xmin:xmax:xip,xip`. */
function parseSnapshotText(text: string): { xmin: string; xmax: string; xipList: string[] } {
  const [xmin, xmax, xip] = text.split(':')
  if (xmin === undefined || xmax === undefined) throw new Error(`unexpected pg_current_snapshot() output: ${text}`)
  return { xmin, xmax, xipList: xip === undefined || xip === '' ? [] : xip.split(',') }
}
