/**
 * Which tables the shape handler serves: an allow-list checked before the source is asked anything.
 *
 * Invariants:
 * - A table in a system schema (`pg_catalog`, `information_schema`, `pg_toast`, any `pg_*`) is never served, whatever
 *   the options say; naming one in the options is a {@link TableAccessError} when the handler is created.
 * - Without `tables` and `schemas`, the `public` schema's tables are served and nothing else. With either or both,
 *   exactly the tables they name are: a table listed in `tables`, or any table of a schema listed in `schemas`.
 * - Names in the options are read as the `table` param is (identifiers.ts): unqualified names are in `public`,
 *   unquoted ones are lower-cased, `"Quoted"` ones keep their case. So a request for a listed table matches it
 *   however the request spells it, and an option cannot allow a table that no request could name.
 * - `tables` and `schemas` are lists of strings or absent: one string (`tables: 'items'`), `null` or a list holding a
 *   non-string is a {@link TableAccessError}, never iterated letter by letter into an allow-list of `i`, `t`, `e`…
 * - The check is made on the request's table name, before any catalog query or DDL (shapeDefinition.ts), so a
 *   refused table and a missing one get the same answer at the same cost: a refusal reveals nothing.
 */
import { parseIdentifier, parseTableName } from './identifiers'

/** The allow-list part of the handler's options. */
export interface TableAccessOptions {
  /** Tables served, as `name` (in `public`) or `schema.name`. */
  tables?: readonly string[]
  /** Schemas whose every table is served. */
  schemas?: readonly string[]
}

/** The resolved allow-list. */
export interface TableAccess {
  /** Whether `schema.name` (already unquoted) may be served. */
  allows(schema: string, name: string): boolean
}

/** An allow-list option the handler cannot start with: a malformed name, or a system schema. */
export class TableAccessError extends Error {
  readonly code = 'table-access' as const
  constructor(message: string) {
    super(message)
    this.name = 'TableAccessError'
  }
}

/**
 * True for PostgreSQL's own schemas, whose tables no shape may read: `pg_catalog` (password verifiers in `pg_authid`,
 * sampled values of every table in `pg_statistic`), `pg_toast`, temp schemas and `information_schema`.
 * @example
 * isSystemSchema('pg_catalog') // true
 */
export function isSystemSchema(schema: string): boolean {
  return schema.startsWith('pg_') || schema === 'information_schema'
}

/**
 * Resolves the allow-list options (see the invariants at the top of this file).
 * @example
 * const access = createTableAccess({ tables: ['items', 'app.todos'] })
 * access.allows('public', 'items') // true
 * access.allows('private', 'secrets') // false
 */
export function createTableAccess(options: TableAccessOptions = {}): TableAccess {
  const tables = new Set<string>()
  const schemas = new Set<string>()
  checkNameList('tables', options.tables)
  checkNameList('schemas', options.schemas)
  for (const text of options.tables ?? []) {
    const parsed = parseTableName(text)
    if (!parsed.ok) throw new TableAccessError(`tables: "${text}" is not a table name (${parsed.message})`)
    if (isSystemSchema(parsed.schema)) throw new TableAccessError(`tables: "${text}" is in a system schema, which is never served`)
    tables.add(JSON.stringify([parsed.schema, parsed.name]))
  }
  for (const text of options.schemas ?? []) {
    const parsed = parseIdentifier(text)
    if (!parsed.ok) throw new TableAccessError(`schemas: "${text}" is not a schema name (${parsed.message})`)
    if (isSystemSchema(parsed.value)) throw new TableAccessError(`schemas: "${text}" is a system schema, which is never served`)
    schemas.add(parsed.value)
  }
  if (options.tables === undefined && options.schemas === undefined) schemas.add('public')
  return {
    allows: (schema, name) =>
      !isSystemSchema(schema) && (schemas.has(schema) || tables.has(JSON.stringify([schema, name]))),
  }
}

/** JavaScript callers and `as` casts reach here too: see the invariant on lists above. */
function checkNameList(option: 'tables' | 'schemas', value: unknown): void {
  if (value === undefined) return
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
    const got = typeof value === 'string' ? `the string "${value}"` : Array.isArray(value) ? 'a list holding a non-string' : String(value)
    const example = option === 'tables' ? "['items', 'app.todos']" : "['app']"
    throw new TableAccessError(`${option}: must be a list of names (e.g. ${example}), got ${got}`)
  }
}
