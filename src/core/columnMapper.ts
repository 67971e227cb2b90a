/**
 * Column mappers: translate column names between the database (wire) and the application.
 *
 * Invariants:
 * - `decode` turns a wire column name into the key the application sees; the parser applies it once per schema
 *   column (precomputed), so a mapper must be a pure function of its input.
 * - `encode(decode(db)) === db` for every name the mapper documents as supported, so `columns`/`where`
 *   identifiers written in application names reach the server unchanged.
 * - Names a mapper does not know pass through unchanged in both directions.
 * - A shape's `where` is written in application names, as `columns` are (as with `@electric-sql/client`):
 *   `encodeWhereColumns` passes every bare identifier through `encode` and leaves the rest of the text as it is:
 *   string literals (also `E'…'` and dollar-quoted), quoted identifiers, `$n` params, numbers, comments, SQL keywords
 *   (`AND`, `IS`, `NULLS FIRST`, `AT TIME ZONE`, … in any case), function names (a word before `(`) and type names
 *   (after `::`, after `AS` in a `CAST`, and before a string in a typed literal such as `DATE '2024-01-01'`). So an
 *   application column named like one of those keywords is not encoded (write its database name).
 */
import { InvalidOptionsError } from './errors'

/**
 * Translates column names between the database and the application.
 *
 * @example
 * const mapper = snakeCamelMapper()
 * mapper.decode('user_id') // 'userId'
 * mapper.encode('userId')  // 'user_id'
 */
export interface ColumnMapper {
  /** Application name → database name (for `columns` and `where` identifiers). */
  encode(appColumn: string): string
  /** Database name → application name (for the keys of parsed rows). */
  decode(dbColumn: string): string
}

const LEADING_UNDERSCORES = /^_*/
const UNDERSCORE_LETTER = /_([a-z])/g
const UPPERCASE = /[A-Z]/g

function snakeToCamel(name: string): string {
  const prefix = LEADING_UNDERSCORES.exec(name)?.[0] ?? ''
  return prefix + name.slice(prefix.length).replace(UNDERSCORE_LETTER, (_, letter: string) => letter.toUpperCase())
}

function camelToSnake(name: string): string {
  const prefix = LEADING_UNDERSCORES.exec(name)?.[0] ?? ''
  return prefix + name.slice(prefix.length).replace(UPPERCASE, (letter) => `_${letter.toLowerCase()}`)
}

/**
 * snake_case in the database ↔ camelCase in the application.
 *
 * `decode` removes an underscore only when a lowercase ASCII letter follows it, and upper-cases that letter; `encode`
 * puts an underscore before every uppercase ASCII letter and lower-cases it. Leading underscores are kept as they are
 * on both sides. Consequences (the round trip `encode(decode(db)) === db` holds for every lowercase database name):
 * - `user_id` ↔ `userId`, `_id` ↔ `_id`, `__typename` ↔ `__typename`, `name_` ↔ `name_`;
 * - an underscore before a digit or another underscore stays: `address_2` ↔ `address_2`, `a__b` ↔ `a_B`;
 * - database names that already contain uppercase letters (quoted identifiers such as `"userId"`) do not round-trip:
 *   `encode('userId')` is `user_id`. Use `createColumnMapper` for such tables.
 *
 * @example
 * const shape = client.shape({ url, params: { table: 'todos' }, columnMapper: snakeCamelMapper() })
 */
export function snakeCamelMapper(): ColumnMapper {
  return { encode: camelToSnake, decode: snakeToCamel }
}

/**
 * An explicit mapping from database names to application names; unmapped names pass through.
 * Throws `InvalidOptionsError` when two database names map to the same application name (encode would be ambiguous).
 *
 * @example
 * const mapper = createColumnMapper({ user_id: 'owner', created_at: 'createdAt' })
 * mapper.decode('user_id') // 'owner'
 * mapper.encode('owner')   // 'user_id'
 */
export function createColumnMapper(dbToApp: Readonly<Record<string, string>>): ColumnMapper {
  const decodeMap = new Map<string, string>()
  const encodeMap = new Map<string, string>()
  for (const [db, app] of Object.entries(dbToApp)) {
    if (typeof app !== 'string') {
      throw new InvalidOptionsError(`createColumnMapper: the mapping for "${db}" must be a string`)
    }
    const previous = encodeMap.get(app)
    if (previous !== undefined) {
      throw new InvalidOptionsError(`createColumnMapper: "${previous}" and "${db}" both map to "${app}"`)
    }
    decodeMap.set(db, app)
    encodeMap.set(app, db)
  }
  return {
    encode: (appColumn) => encodeMap.get(appColumn) ?? appColumn,
    decode: (dbColumn) => decodeMap.get(dbColumn) ?? dbColumn,
  }
}

// Words of a `where` clause that are SQL, never columns (lower case). Includes the non-reserved words that appear in
// expressions (`nulls first`, `at time zone`, `double precision`), so a mapper never turns `AND` into `_a_n_d`.
const SQL_WORDS = new Set(
  (
    'all and any array as asc at between both case cast collate current_date current_time current_timestamp ' +
    'desc distinct double else end escape false first from ilike in interval is isnull last leading like not ' +
    'notnull null nulls or overlaps precision similar some symmetric then time timestamp to trailing true ' +
    'unknown varying when with without zone'
  ).split(' '),
)
// One token of a `where` at a time: E-strings, strings, quoted identifiers, comments, dollar-quoted strings, `$n`,
// numbers and casts (`::type`, `AS type`) are passed as they are; a bare word notes whether a `(` or a `'` follows it
// (a function name, a typed literal such as `B'101'` or `DATE '2024-01-01'`: a column is never followed by a string).
const WHERE_TOKEN =
  /[Ee]'(?:[^'\\]|\\[\s\S]|'')*'?|'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--.*|\/\*[\s\S]*?(?:\*\/|$)|\$(\w*)\$[\s\S]*?(?:\$\1\$|$)|\$\d+|\d[\p{L}\p{N}_.]*|::\s*[\p{L}_][\p{L}\p{N}_$]*|[Aa][Ss]\s+[\p{L}_][\p{L}\p{N}_$]*|[\p{L}_][\p{L}\p{N}_$]*(?=(\s*[('])?)/gu
const BARE_WORD = /^[\p{L}_][\p{L}\p{N}_$]*$/u

/**
 * `where` written in application column names, with every bare identifier passed through `encode` (see the
 * invariants above for what is left alone).
 * @example
 * encodeWhereColumns("isDone = $1 AND ownerId IS NOT NULL", snakeCamelMapper().encode) // "is_done = $1 AND owner_id IS NOT NULL"
 */
export function encodeWhereColumns(where: string, encode: (appColumn: string) => string): string {
  return where.replace(WHERE_TOKEN, (token: string, _tag: string | undefined, follows: string | undefined) =>
    follows === undefined && BARE_WORD.test(token) && !SQL_WORDS.has(token.toLowerCase()) ? encode(token) : token,
  )
}
