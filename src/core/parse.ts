/**
 * Schema-driven parsing of wire rows (Postgres text output) into JS values (SHAPE-PROTOCOL.md §3.4–3.5).
 *
 * Invariants:
 * - Each schema column is compiled once per `createMessageParser` call into one function (wire value → JS value)
 *   and one output key (`columnMapper.decode` applied once); parsing a row never looks at type names again.
 * - `null` in a `not_null` column throws `NullValueError`; a throwing value parser becomes `ValueParseError`
 *   with the original error as `cause`. Columns absent from the schema keep their wire value (their key is still
 *   decoded, so a row never mixes naming styles).
 * - `parseMessages` is all-or-nothing: it returns a fully parsed batch or throws, so the store never sees half of
 *   a batch (see errors.ts: raising an error leaves the store as it was). It takes ownership of its input (fresh
 *   objects from `JSON.parse`, discarded by the caller when it throws): without a `columnMapper` it parses values in
 *   place and returns the same array and objects, so a synced row is the object `JSON.parse` made; with one (or
 *   with lazy columns, see `lazyJson` below), it builds new rows and leaves the input alone.
 * - Per row, only columns that need work are visited: a parser to run, or `not_null` to check. A column whose
 *   type has no parser (`text`, `uuid`, …) and may be null costs nothing; absent columns (partial updates) are skipped.
 * - User `parser` entries replace the default for their type name, for plain columns and for array elements.
 * - With `lazyJson`, a non-null `json`/`jsonb` column (not an array) is not parsed here: its text is installed as
 *   a lazy value (see lazyColumn.ts) parsed by the same parser on first read. `null` and `not_null` are still
 *   checked here; a text that does not parse throws `ValueParseError` at that read instead of failing the batch.
 *   Rows with lazy columns are built fresh, as with a `columnMapper`, never converted in place (see `rebuild`).
 */
import { InvalidOptionsError, MalformedSchemaError, NullValueError, ShapeError, ValueParseError } from './errors'
import { isChangeMessage } from './protocol'
import type { ChangeMessage, ColumnInfo, Message, Row, Schema, WireRow, WireValue } from './protocol'
import type { ColumnMapper } from './columnMapper'
import { lazyColumn } from './lazyColumn'
import type { LazyColumn } from './lazyColumn'
import { isPlainObject } from './isPlainObject'

/**
 * Turns one non-null wire value of a column into a JS value. For arrays it receives each element, not the literal.
 * @example
 * const parseMoney: ValueParser = (value) => Number(value.replace(/[$,]/g, ''))
 */
export type ValueParser = (value: string, column: ColumnInfo) => unknown

/**
 * Value parsers by Postgres type name (`int4`, `jsonb`, an enum's name…). Entries override the defaults.
 * @example
 * const parser: Parser = { timestamptz: (value) => new Date(value), int8: (value) => Number(value) }
 */
export type Parser = Record<string, ValueParser>

const parseNumber: ValueParser = (value) => Number(value)
const parseBool: ValueParser = (value) => value === 't' || value === 'true'
const parseJson: ValueParser = (value) => JSON.parse(value) as unknown
const parseBigInt: ValueParser = (value) => BigInt(value)

/**
 * The built-in parsers: numbers for `int2`/`int4`/`float4`/`float8` (`NaN` and `±Infinity` included), `BigInt` for
 * `int8`, booleans for `bool` (`t`/`true`), `JSON.parse` for `json`/`jsonb`. Every other type stays a string.
 * @example
 * const parser: Parser = { ...defaultParser, int8: (value) => Number(value) } // int8 as number, not bigint
 */
export const defaultParser: Readonly<Parser> = Object.freeze({
  int2: parseNumber,
  int4: parseNumber,
  float4: parseNumber,
  float8: parseNumber,
  int8: parseBigInt,
  bool: parseBool,
  json: parseJson,
  jsonb: parseJson,
})

/** Options of `createMessageParser`. */
export interface MessageParserOptions<T> {
  /** Per-type overrides of `defaultParser`. */
  parser?: Parser
  /** Renames columns after parsing (`decode`). */
  columnMapper?: ColumnMapper
  /** Runs last, on each parsed and renamed `value` (not on `old_value`, which is partial). */
  transformer?: (row: Row) => T
  /** Parse `json`/`jsonb` values on first read instead of on arrival: less memory and work for unread values. */
  lazyJson?: boolean
}

/** Parses the rows of one shape, compiled for one schema. */
export interface MessageParser<T> {
  /**
   * Parses one wire row (a `value`): every present column through its compiled parser, then the transformer. Without
   * a `columnMapper` the row is parsed in place and returned: pass a row you own.
   */
  parseValue(row: WireRow): T
  /** Parses `value` and `old_value` of every change message, taking ownership of them; control messages are kept. */
  parseMessages(messages: readonly Message<WireRow>[]): Message<T>[]
}

interface CompiledColumn {
  readonly key: string
  readonly parse: (value: WireValue) => unknown
  /** Set when the column's values are installed lazily under `key`. */
  readonly lazy: LazyColumn | undefined
}

/** A column that needs per-row work when rows are parsed in place. */
interface InPlaceColumn {
  readonly name: string
  /**
   * Undefined when the value stays as it is and only `not_null` is checked; for a plain column, the type's parser
   * itself (called with `info`), so a value costs one call.
   */
  readonly parse: ValueParser | undefined
  readonly info: ColumnInfo
  readonly notNull: boolean
  /** The name shadows something on `Object.prototype` (`constructor`, `__proto__`…): presence needs `hasOwn`. */
  readonly inherited: boolean
  readonly pgType: string
}

const JSON_TYPES: readonly string[] = ['json', 'jsonb']

/**
 * Compiles a parser for `schema`, each column once.
 *
 * @example
 * const parser = createMessageParser(parseSchemaHeader(meta.schema), { columnMapper: snakeCamelMapper() })
 * store.applyBatch(parser.parseMessages(body))
 */
export function createMessageParser<T = Row>(schema: Schema, options: MessageParserOptions<T> = {}): MessageParser<T> {
  const parsers: Parser = { ...defaultParser, ...options.parser }
  const decode = options.columnMapper ? options.columnMapper.decode.bind(options.columnMapper) : undefined
  const transformer = options.transformer
  const columns = new Map<string, CompiledColumn>()
  const inPlaceColumns: InPlaceColumn[] = []
  const keyOwners = new Map<string, string>()
  let hasLazy = false
  for (const [name, info] of Object.entries(schema)) {
    const key = decode ? decode(name) : name
    const owner = keyOwners.get(key)
    if (owner !== undefined) {
      throw new InvalidOptionsError(`columnMapper maps both "${owner}" and "${name}" to "${key}"`)
    }
    keyOwners.set(key, name)
    const text = compileText(info, parsers)
    const pgType = pgTypeOf(info)
    const lazy =
      options.lazyJson === true && text !== undefined && JSON_TYPES.includes(pgType)
        ? lazyColumn(key, name, pgType, text)
        : undefined
    if (lazy) hasLazy = true
    columns.set(name, { key, parse: wrapColumn(name, info, text), lazy })
    if (text !== undefined || info.not_null === true) {
      inPlaceColumns.push({
        name,
        parse: compileValue(info, parsers),
        info,
        notNull: info.not_null === true,
        inherited: name in Object.prototype,
        pgType,
      })
    }
  }
  // Keys of columns the schema does not describe; per parser instance, bounded by the table's columns.
  const passThroughKeys = new Map<string, string>()
  const keyOf = (name: string): string => {
    if (!decode) return name
    let key = passThroughKeys.get(name)
    if (key === undefined) {
      key = decode(name)
      passThroughKeys.set(name, key)
    }
    return key
  }

  const renameRow = (row: WireRow): Row => {
    const out: Row = {}
    for (const name of Object.keys(row)) {
      const raw = row[name] as WireValue
      const column = columns.get(name)
      if (column?.lazy !== undefined && typeof raw === 'string') column.lazy.define(out, raw)
      else setOwn(out, column ? column.key : keyOf(name), column ? column.parse(raw) : raw)
    }
    return out
  }

  const parseInPlace = (row: WireRow): Row => {
    const out = row as Row
    for (let i = 0; i < inPlaceColumns.length; i++) {
      const column = inPlaceColumns[i] as InPlaceColumn
      const { name } = column
      if (column.inherited && !Object.hasOwn(row, name)) continue
      const raw = row[name]
      if (raw === undefined) continue
      if (raw === null) {
        if (column.notNull) throw new NullValueError(name)
        continue
      }
      const parse = column.parse
      if (parse === undefined) continue
      let value: unknown
      try {
        // Called as a plain function, as user parsers always were (no `this`).
        value = parse(raw, column.info)
      } catch (error) {
        throw asValueError(error, name, column.pgType)
      }
      if (column.inherited) setOwn(out, name, value)
      else out[name] = value
    }
    return out
  }

  // Lazy columns need a fresh row: turning a data property of the `JSON.parse` object into an accessor would make V8
  // store that row as a slow dictionary (measured: twice the bytes per row); properties added in order stay fast.
  const rebuild = decode !== undefined || hasLazy
  const parseRow = rebuild ? renameRow : parseInPlace

  const parseValue = (row: WireRow): T => {
    const parsed = parseRow(row)
    return transformer ? transformer(parsed) : (parsed as T)
  }

  const parseMessages = (messages: readonly Message<WireRow>[]): Message<T>[] => {
    if (rebuild) {
      return messages.map((message): Message<T> => {
        if (!isChangeMessage(message)) return message
        const { old_value: oldValue, value, ...rest } = message
        const parsed: ChangeMessage<T> = { ...rest, value: parseValue(value) }
        if (oldValue !== undefined) parsed.old_value = parseRow(oldValue as WireRow) as Partial<T>
        return parsed
      })
    }
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as Message<WireRow>
      if (!isChangeMessage(message)) continue
      const parsed = message as unknown as ChangeMessage<T>
      const value = parseValue(message.value)
      if (transformer) parsed.value = value
      if (message.old_value !== undefined) parseInPlace(message.old_value as WireRow)
    }
    return messages as unknown as Message<T>[]
  }

  return { parseValue, parseMessages }
}

/** The text parser of a column (array literal or element), or undefined when its values stay strings. */
function compileText(info: ColumnInfo, parsers: Parser): ((value: string) => unknown) | undefined {
  const dims = info.dims ?? 0
  const element = Object.hasOwn(parsers, info.type) ? parsers[info.type] : undefined
  if (dims > 0) {
    const delimiter = info.type === 'box' ? ';' : ','
    const parseElement = element ? (value: string) => element(value, info) : undefined
    return (value) => parsePgArray(value, parseElement, delimiter)
  }
  return element ? (value) => element(value, info) : undefined
}

/** `compileText` as a `ValueParser`: a plain column's parser is the type's own, with no wrapper to call through. */
function compileValue(info: ColumnInfo, parsers: Parser): ValueParser | undefined {
  if ((info.dims ?? 0) > 0) {
    const text = compileText(info, parsers)
    return text && ((value) => text(value))
  }
  return Object.hasOwn(parsers, info.type) ? parsers[info.type] : undefined
}

function wrapColumn(
  name: string,
  info: ColumnInfo,
  text: ((value: string) => unknown) | undefined,
): (value: WireValue) => unknown {
  const notNull = info.not_null === true
  const pgType = pgTypeOf(info)
  return (value) => {
    if (value === null) {
      if (notNull) throw new NullValueError(name)
      return null
    }
    return text ? runText(text, value, name, pgType) : value
  }
}

/** Runs a column's text parser; anything it throws that is not already typed becomes `ValueParseError`. */
function runText(text: (value: string) => unknown, value: string, name: string, pgType: string): unknown {
  try {
    return text(value)
  } catch (error) {
    throw asValueError(error, name, pgType)
  }
}

function asValueError(error: unknown, name: string, pgType: string): unknown {
  return error instanceof ShapeError ? error : new ValueParseError(name, pgType, { cause: error })
}

function pgTypeOf(info: ColumnInfo): string {
  return info.type + '[]'.repeat(info.dims ?? 0)
}

/**
 * Parses a Postgres array literal (`{1,NULL,"a,b",{2,3}}`, optionally prefixed by bounds like `[0:1]=`).
 * Unquoted `NULL` (any case) becomes `null`; other elements go through `parseElement` (strings when omitted).
 * Throws `SyntaxError` on a malformed literal.
 * @example
 * parsePgArray('{1,NULL,"a,b"}') // ['1', null, 'a,b']
 * const parser: Parser = { _mood: (value) => parsePgArray(value) } // an array type the defaults do not know
 */
export function parsePgArray(
  text: string,
  parseElement?: (value: string) => unknown,
  delimiter = ',',
): unknown[] {
  let i = 0
  if (text.startsWith('[')) {
    const eq = text.indexOf('=')
    if (eq < 0) throw new SyntaxError(`Malformed array literal: ${text}`)
    i = eq + 1
  }
  const malformed = (): SyntaxError => new SyntaxError(`Malformed array literal at position ${i}: ${text}`)
  const element = (value: string): unknown => (parseElement ? parseElement(value) : value)

  const parseLevel = (): unknown[] => {
    if (text[i] !== '{') throw malformed()
    i++
    const out: unknown[] = []
    if (text[i] === '}') {
      i++
      return out
    }
    for (;;) {
      const c = text[i]
      if (c === '{') {
        out.push(parseLevel())
      } else if (c === '"') {
        i++
        let value = ''
        let start = i
        for (;;) {
          const ch = text[i]
          if (ch === undefined) throw malformed()
          if (ch === '\\') {
            value += text.slice(start, i)
            if (i + 1 >= text.length) throw malformed()
            value += text[i + 1]
            i += 2
            start = i
          } else if (ch === '"') {
            value += text.slice(start, i)
            i++
            break
          } else {
            i++
          }
        }
        out.push(element(value))
      } else {
        const start = i
        while (i < text.length && text[i] !== delimiter && text[i] !== '}') i++
        const token = text.slice(start, i).trim()
        if (token === '' || token.includes('{') || token.includes('"')) throw malformed()
        out.push(token.toUpperCase() === 'NULL' ? null : element(token))
      }
      const next = text[i]
      i++
      if (next === '}') return out
      if (next !== delimiter) throw malformed()
    }
  }

  const result = parseLevel()
  if (i !== text.length) throw malformed()
  return result
}

/**
 * Reads the `electric-schema` header. Throws `MalformedSchemaError` unless it is a JSON object whose every column is
 * an object with a string `type` (and, when present, a non-negative integer `dims`).
 */
export function parseSchemaHeader(header: string): Schema {
  let json: unknown
  try {
    json = JSON.parse(header)
  } catch (error) {
    throw new MalformedSchemaError(header, { cause: error })
  }
  if (!isPlainObject(json)) throw new MalformedSchemaError(header)
  const schema: Schema = {}
  for (const [name, column] of Object.entries(json)) {
    if (!isPlainObject(column) || typeof column['type'] !== 'string') throw new MalformedSchemaError(header)
    const dims = column['dims']
    if (dims !== undefined && !(typeof dims === 'number' && Number.isInteger(dims) && dims >= 0)) {
      throw new MalformedSchemaError(header)
    }
    setOwn(schema, name, column as unknown as ColumnInfo)
  }
  return schema
}

/** Assignment that treats `__proto__` as an ordinary column name, as `JSON.parse` does. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}
