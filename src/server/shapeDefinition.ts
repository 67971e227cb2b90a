/**
 * A shape's definition resolved against the source: the table, the selected columns, the compiled `where`, and the
 * identity under which the registry shares one materialisation.
 *
 * Invariants:
 * - Selected columns always include the primary key; they are kept in table order.
 * - Two requests share a shape iff their `key`s are equal: table, normalised `where`, params, selected
 *   columns (as a set), replica and log mode.
 * - Refusals carry Electric's messages: unknown table, missing primary-key columns, unknown columns, and the
 *   `where` compiler's own messages.
 * - On the PostgreSQL source a shape neither selects nor filters on a generated column: logical replication does not
 *   carry their values, so live changes would leave them missing or stale.
 * - A `requestKey` is the definition as the request wrote it; resolution is a function of it and the table's
 *   description, so equal request keys resolve to equal definitions while the table is unchanged.
 * - A table the handler's allow-list refuses (tableAccess.ts) gets the unknown-table refusal before the source is
 *   asked anything: no catalog query, no trigger or publication DDL, and no hint that the table exists.
 * - The `electric-schema` header is ASCII: a column name outside ASCII (`prénom`, `名前`, an emoji) is written as JSON
 *   `\u` escapes, since a header value is bytes (a `Response` refuses characters past U+00FF, and browsers read
 *   UTF-8 header bytes as Latin-1), while `JSON.parse` of the escapes gives back the exact names the rows carry.
 */
import type { ColumnInfo, LogMode, Replica, Schema } from '../core/protocol'
import { quoteIdentifier } from './identifiers'
import type { ParseResult, ShapeQuery } from './requestParams'
import { fail } from './requestParams'
import type { ChangeSource, TableDescription } from './sources/source'
import type { TableAccess } from './tableAccess'
import type { ShapeFilter } from './whereFilter'
import { loadWhereFilter } from './whereFilter'
import type { WhereLimits } from './where/whereLimits'

export interface ShapeDefinition {
  readonly table: TableDescription
  /** Selected column names in table order. */
  readonly columns: readonly string[]
  readonly where: ShapeFilter | undefined
  readonly replica: Replica
  readonly log: LogMode
  /** Identity of the shape. */
  readonly key: string
}

/**
 * Resolves a validated query against `source`, serving only what `access` allows.
 * @example
 * const resolved = await resolveShapeDefinition(query, source, createTableAccess())
 */
export async function resolveShapeDefinition(
  query: ShapeQuery,
  source: ChangeSource,
  access: TableAccess,
  /** Size limits of `where` and `params` (where/whereLimits.ts); default `DEFAULT_WHERE_LIMITS`. */
  limits?: WhereLimits,
): Promise<ParseResult<ShapeDefinition>> {
  const unknownTable = (): ParseResult<ShapeDefinition> =>
    fail(
      'table',
      `Table ${quoteIdentifier(query.schema)}.${quoteIdentifier(query.table)} does not exist. ` +
        'If the table name contains capitals or special characters you must quote it.',
    )
  if (!access.allows(query.schema, query.table)) return unknownTable()
  const table = await source.describeTable(query.schema, query.table)
  if (!table) return unknownTable()
  let columns = table.columns.map((column) => column.name)
  if (query.columns !== undefined) {
    const requested = new Set(query.columns)
    const missing = table.primaryKey.filter((name) => !requested.has(name))
    if (missing.length > 0) {
      return fail('columns', `The list of columns must include all primary key columns, missing: ${missing.join(', ')}`)
    }
    const known = new Set(columns)
    const unknown = query.columns.filter((name) => !known.has(name))
    if (unknown.length > 0) return fail('columns', `The following columns are not found on the table: ${unknown.join(', ')}`)
    columns = columns.filter((name) => requested.has(name))
  }
  let where: ShapeFilter | undefined
  if (query.where !== undefined) {
    const compiled = await loadWhereFilter({ where: query.where, params: query.params, table, ...(limits ? { limits } : {}) })
    if (!compiled.ok) return { ok: false, errors: { [compiled.refusal.field]: [...compiled.refusal.messages] } }
    where = compiled.filter
  }
  if (source.kind === 'postgres') {
    // pgoutput leaves generated columns out of every change (PostgreSQL 15-17; 18 only with a publication option),
    // so their live values would be missing or stale: refused, as Electric does, rather than served wrong.
    const generated = new Set(table.columns.filter((column) => column.generated).map((column) => column.name))
    const selected = columns.filter((name) => generated.has(name))
    if (selected.length > 0) {
      return fail(
        'columns',
        `The following columns are generated and cannot be included in the shape: ${selected.join(', ')}. ` +
          "You can exclude them from the shape by explicitly listing which columns to fetch in the 'columns' query param",
      )
    }
    const filtered = where?.columns.filter((name) => generated.has(name)) ?? []
    if (filtered.length > 0) {
      return fail('where', `The where clause cannot use generated columns, which logical replication does not carry: ${filtered.join(', ')}`)
    }
  }
  const key = JSON.stringify({
    schema: table.schema,
    table: table.name,
    where: where?.sql ?? null,
    params: where?.params ?? [],
    columns: [...columns].sort(),
    replica: query.replica,
    log: query.log,
  })
  return { ok: true, value: { table, columns, where, replica: query.replica, log: query.log, key } }
}

/**
 * The definition part of a query as written, before resolution: table, `where` text, params, requested
 * columns in request order, replica and log mode.
 * @example
 * const shape = registry.resolvedRequest(query.handle, requestKey(query))
 */
export function requestKey(query: ShapeQuery): string {
  return JSON.stringify({
    schema: query.schema,
    table: query.table,
    where: query.where ?? null,
    params: query.params,
    columns: query.columns ?? null,
    replica: query.replica,
    log: query.log,
  })
}

/** The `electric-schema` header value of a shape: its selected columns, keys absent when not applicable. */
export function schemaHeader(definition: ShapeDefinition): string {
  const schema: Schema = {}
  const selected = new Set(definition.columns)
  for (const column of definition.table.columns) {
    if (!selected.has(column.name)) continue
    const info: ColumnInfo = { type: column.type }
    if (column.dims > 0) info.dims = column.dims
    if (column.pkIndex !== undefined) info.pk_index = column.pkIndex
    if (column.notNull) info.not_null = true
    Object.assign(info, typeModInfo(column.type, column.typeMod))
    schema[column.name] = info
  }
  return JSON.stringify(schema).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Length/precision/scale a type modifier encodes, as Electric reports them. */
function typeModInfo(type: string, typeMod: number): Partial<ColumnInfo> {
  if (typeMod < 0) return {}
  switch (type) {
    case 'varchar':
      return { max_length: typeMod - 4 }
    case 'bpchar':
      return { length: typeMod - 4 }
    case 'bit':
    case 'varbit':
      return { length: typeMod }
    case 'numeric':
      return { precision: ((typeMod - 4) >> 16) & 0xffff, scale: (typeMod - 4) & 0xffff }
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      return { precision: typeMod }
    default:
      return { type_mod: typeMod }
  }
}
