/**
 * Row keys: the shape key of a row, built exactly as the server builds it, so nobody writes
 * `'"public"."items"/"1"'` by hand.
 *
 * Invariants:
 * - The key is `"schema"."table"/"v1"/"v2"…`: schema and table quoted as SQL identifiers (`"` doubled), each primary
 *   key value in the key's column order as its Postgres text output in double quotes with every `/` doubled (a `"`
 *   inside a value is kept as is, as the server does), and SQL NULL as `_` without quotes.
 * - A table given as text is read the way the server reads the `table` param: `name` means `public.name`, unquoted
 *   identifiers are lower-cased, quoted ones keep their case. A `{ schema, name }` object of strings is taken verbatim;
 *   any other table (undefined, a number, an object without a string `name`) is a `RowKeyError`, never a TypeError.
 * - A value is turned into text only when its Postgres text output is certain (strings, finite and non-finite
 *   numbers, bigints, booleans, null); anything else (a `Date`, an object) is refused with `RowKeyError` rather than
 *   guessed, because a wrong key silently never matches the row. A fractional number is printed as `float8` prints
 *   it (`1e-07`, not JavaScript's `1e-7`; float8Text.ts).
 */
import type { ColumnMapper } from './columnMapper'
import { float8Text } from './float8Text'
import type { Schema } from './protocol'

/** A primary-key value as the key builder takes it: its Postgres text form, or a JS value with a certain one. */
export type RowKeyValue = string | number | bigint | boolean | null

/** A table: the `table` param text (`items`, `public.items`, `"My Schema"."Items"`) or an explicit pair. */
export type RowKeyTable = string | { readonly schema?: string; readonly name: string }

/**
 * A row key that cannot be built: an unreadable table name, a missing or unrepresentable primary-key value, or a
 * shape whose primary key is not known yet.
 * @example
 * try { rowKeyOf({ title: 'a' }, { table: 'items', primaryKey: ['id'] }) } catch (error) { if (error instanceof RowKeyError) console.warn(error.message) }
 */
export class RowKeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RowKeyError'
  }
}

/**
 * The shape key of the row of `table` whose primary key is `primaryKey` (one value, or the values in key order for
 * a composite key), exactly as the server builds it.
 * @example
 * rowKey('items', 1)                       // '"public"."items"/"1"'
 * rowKey('app.order_lines', [7, 'a/b'])    // '"app"."order_lines"/"7"/"a//b"'
 * rowKey({ schema: 'public', name: 'Items' }, 'x') // '"public"."Items"/"x"'
 */
export function rowKey(table: RowKeyTable, primaryKey: RowKeyValue | readonly RowKeyValue[]): string {
  const values: readonly RowKeyValue[] = Array.isArray(primaryKey) ? primaryKey : [primaryKey as RowKeyValue]
  if (values.length === 0) throw new RowKeyError('rowKey: the primary key has no value')
  return `${tablePrefix(table)}/${values.map((value, index) => keyPart(value, index)).join('/')}`
}

/** Where `rowKeyOf` finds the table and the primary key. */
export interface RowKeyOptions {
  /** The shape's `table` param, or `{ schema, name }`. */
  table: RowKeyTable
  /** Database names of the primary-key columns, in key order. */
  primaryKey: readonly string[]
  /** The shape's column mapper: the row carries application names (`decode(dbName)`). */
  columnMapper?: ColumnMapper
}

/**
 * The shape key of `row`, reading its primary-key fields (by their application names when a column mapper is given).
 * Throws `RowKeyError` when a key field is missing from the row.
 * @example
 * rowKeyOf({ id: 1, title: 'a' }, { table: 'items', primaryKey: ['id'] }) // '"public"."items"/"1"'
 */
export function rowKeyOf(row: object, options: RowKeyOptions): string {
  const { table, primaryKey, columnMapper } = options
  if (primaryKey.length === 0) throw new RowKeyError('rowKeyOf: the primary key has no column')
  const values = primaryKey.map((column) => {
    const field = columnMapper ? columnMapper.decode(column) : column
    if (!Object.hasOwn(row, field)) {
      throw new RowKeyError(`The row has no "${field}" field, which is part of the primary key (${primaryKey.join(', ')}) of ${tablePrefix(table)}`)
    }
    return (row as Record<string, unknown>)[field]
  })
  return `${tablePrefix(table)}/${values.map((value, index) => keyPart(value, index)).join('/')}`
}

/**
 * The primary-key column names of an `electric-schema` (columns with `pk_index`, in `pk_index` order); empty when
 * none is marked.
 * @example
 * primaryKeyOf({ id: { type: 'int4', pk_index: 0 }, title: { type: 'text' } }) // ['id']
 */
export function primaryKeyOf(schema: Schema): string[] {
  return Object.entries(schema)
    .filter(([, column]) => column.pk_index !== undefined)
    .sort(([, a], [, b]) => (a.pk_index as number) - (b.pk_index as number))
    .map(([name]) => name)
}

/** `"schema"."table"` of a table reference (the `table` param grammar of the server). */
export function tablePrefix(table: RowKeyTable): string {
  // `table ?? {}` and the checks below: JavaScript callers and `as` casts reach here with anything.
  const { schema = 'public', name } = typeof table === 'string' ? parseTable(table) : ((table ?? {}) as { schema?: unknown; name?: unknown })
  if (typeof name !== 'string' || typeof schema !== 'string') throw new RowKeyError(`The table must be a name ('items', 'app.items') or { schema?, name } of strings`)
  return `${quote(schema)}.${quote(name)}`
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`
}

function keyPart(value: unknown, index: number): string {
  if (value === null || value === undefined) return '_'
  return `"${textOf(value, index).replace(/\//g, '//')}"`
}

function textOf(value: unknown, index: number): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'bigint':
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      return float8Text(value)
    default:
      throw new RowKeyError(
        `Primary-key value #${index + 1} is a ${value instanceof Date ? 'Date' : typeof value}: pass its Postgres text form as a string ` +
          '(the key is built from the text the database prints)',
      )
  }
}

function parseTable(text: string): { schema: string; name: string } {
  const parts = splitOnDots(text)
  if (parts.length > 2) throw new RowKeyError(`Invalid table name: ${text}`)
  const names = parts.map((part) => identifier(part, text))
  return names.length === 2 ? { schema: names[0] as string, name: names[1] as string } : { schema: 'public', name: names[0] as string }
}

function splitOnDots(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (const char of text) {
    if (char === '"') quoted = !quoted
    if (char === '.' && !quoted) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}

function identifier(part: string, text: string): string {
  if (part.length >= 2 && part.startsWith('"') && part.endsWith('"')) {
    const inner = part.slice(1, -1)
    if (inner === '' || inner.replace(/""/g, '').includes('"')) throw new RowKeyError(`Invalid table name: ${text}`)
    return inner.replace(/""/g, '"')
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) throw new RowKeyError(`Invalid table name: ${text}`)
  return part.toLowerCase()
}
