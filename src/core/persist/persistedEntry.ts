/**
 * One persisted shape as stored: its definition key, stream position, schema, rows and format version, as a string.
 *
 * Invariants:
 * - An entry holds rows and position that agree (`Shape.getHydrationState`, where shape.ts promises they agree): rows
 *   exactly as of the offset, so a reload resumes live from that offset without refetching anything.
 * - Row values use the tagged encoding of hydration (`dehydratedValue.ts`): bigint, NaN/±Infinity/-0, undefined and
 *   Date come back as they went in. Values JSON carries as they are (most of them) skip that encoder: a scan that
 *   allocates nothing decides, per row and then per column, whether the exact encoder or decoder is needed, so a
 *   100k-row entry costs about one `JSON.stringify` / `JSON.parse` (the per-value encoder was measured 3x slower).
 * - `readEntry` never throws: anything it cannot trust (not JSON, another format version, another buster, another
 *   definition, expired, a malformed field or value) is a `drop` with a reason, which the caller logs and removes.
 * - The definition key is built from what identifies a shape across page loads: url, table, where, params, columns,
 *   replica, log and custom params. Functions have no identity across loads, so a shape with function-valued params
 *   is not persisted; headers, parser, columnMapper and transformer are not part of the key (change `buster` when
 *   they change what rows look like).
 */
import type { Row, Schema } from '../protocol'
import type { ShapeHydrationState } from '../shape'
import type { ShapeOptions } from '../shapeOptions'
import type { JsonValue } from '../dehydratedValue'
import { decodeDehydratedValue, encodeDehydratedValue } from '../dehydratedValue'
import { isValidOffset } from '../offset'

/** The version of the stored layout; an entry of another version is dropped. */
export const PERSIST_FORMAT = 1

/** What `readEntry` found. */
export type ReadEntry<T> =
  | { kind: 'entry'; state: ShapeHydrationState<T>; savedAt: number }
  | { kind: 'drop'; reason: string }

/** What the reader checks an entry against. */
export interface EntryExpectation {
  definition: string
  buster: string
  maxAgeMs: number
  now: number
}

/**
 * The definition key of `options` for storage, or `undefined` when a param is a function (not persistable).
 * @example
 * persistDefinitionKey({ url, params: { where: 'a', table: 't' } }) === persistDefinitionKey({ url, params: { table: 't', where: 'a' } })
 */
export function persistDefinitionKey(options: ShapeOptions<unknown>): string | undefined {
  const { table, where, params, columns, replica, ...custom } = options.params
  const values: unknown[] = [where, params, columns, ...Object.values(custom)]
  if (values.some((value) => typeof value === 'function')) return undefined
  const positional = Array.isArray(params)
    ? Object.fromEntries((params as readonly string[]).map((value, index) => [String(index + 1), value]))
    : (params ?? null)
  return JSON.stringify([
    options.url,
    table,
    where ?? null,
    canonical(positional),
    columns ?? null,
    replica ?? 'default',
    options.log ?? 'full',
    Object.keys(custom)
      .filter((key) => custom[key] !== undefined)
      .sort()
      .map((key) => [key, canonical(custom[key])]),
  ])
}

/**
 * The stored text of `state`. Throws `DehydratedStateError` for a row value the encoding cannot carry.
 * @example
 * const text = writeEntry(shape.getHydrationState()!, { definition, buster: '', savedAt: Date.now() })
 */
export function writeEntry<T>(state: ShapeHydrationState<T>, meta: { definition: string; buster: string; savedAt: number }): string {
  const rows: Array<[string, JsonValue]> = []
  for (const [key, row] of state.rows) rows.push([key, encodeRow(row, rows.length)])
  return JSON.stringify({
    format: PERSIST_FORMAT,
    buster: meta.buster,
    definition: meta.definition,
    savedAt: meta.savedAt,
    handle: state.handle,
    offset: state.offset,
    cursor: state.cursor ?? null,
    schema: state.schema ?? null,
    lastSyncedAt: state.lastSyncedAt ?? null,
    rows,
  })
}

/**
 * Parses and checks a stored text; never throws (see the invariants).
 * @example
 * const read = readEntry(text, { definition, buster: '', maxAgeMs: Infinity, now: Date.now() })
 * if (read.kind === 'entry') shape.hydrate(read.state)
 */
export function readEntry<T = Row>(text: string, expect: EntryExpectation): ReadEntry<T> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return drop('not JSON')
  }
  if (!isRecord(value)) return drop('not an object')
  if (value['format'] !== PERSIST_FORMAT) return drop(`stored format ${JSON.stringify(value['format'])}, expected ${PERSIST_FORMAT}`)
  if (value['buster'] !== expect.buster) return drop(`buster changed (${JSON.stringify(value['buster'])} → ${JSON.stringify(expect.buster)})`)
  if (value['definition'] !== expect.definition) return drop('stored for another shape definition')
  const { handle, offset, cursor, schema, lastSyncedAt, savedAt, rows } = value
  if (typeof savedAt !== 'number' || !Number.isFinite(savedAt)) return drop('savedAt is not a number')
  if (lastSyncedAt !== null && (typeof lastSyncedAt !== 'number' || !Number.isFinite(lastSyncedAt))) {
    return drop('lastSyncedAt is not a number')
  }
  const age = expect.now - (lastSyncedAt ?? savedAt)
  if (age > expect.maxAgeMs) return drop(`expired (synced ${Math.round(age / 1000)} s ago, maxAgeMs ${expect.maxAgeMs})`)
  if (typeof handle !== 'string' || handle === '') return drop('handle is not a non-empty string')
  if (typeof offset !== 'string' || offset === '-1' || !isValidOffset(offset)) return drop(`offset ${JSON.stringify(offset)} is not a log offset`)
  if (cursor !== null && typeof cursor !== 'string') return drop('cursor is not a string')
  if (schema !== null && !isSchema(schema)) return drop('schema is not column name to { type }')
  if (!Array.isArray(rows)) return drop('rows is not an array')
  const decoded = new Map<string, T>()
  for (let index = 0; index < rows.length; index++) {
    const pair: unknown = rows[index]
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') return drop(`rows[${index}] is not a [key, row] pair`)
    if (decoded.has(pair[0])) return drop(`rows[${index}] repeats key ${JSON.stringify(pair[0])}`)
    try {
      decoded.set(pair[0], decodeRow(pair[1], index) as T)
    } catch (error) {
      return drop(error instanceof Error ? error.message : String(error))
    }
  }
  const state: ShapeHydrationState<T> = {
    handle,
    offset,
    cursor: cursor ?? undefined,
    schema: (schema as Schema | null) ?? undefined,
    lastSyncedAt: lastSyncedAt ?? undefined,
    rows: decoded,
  }
  return { kind: 'entry', state, savedAt }
}

const TAG = '$ls'
const MAX_SCAN_DEPTH = 64

/** True when JSON carries `value` exactly as it is, so it needs no tag (deeper than 64 levels: let the encoder decide). */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': {
      if (value === null) return true
      if (depth > MAX_SCAN_DEPTH) return false
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) if (!isPlainJson(value[index], depth + 1)) return false
        return true
      }
      if (!isRecord(value) || Object.hasOwn(value, TAG)) return false
      for (const key of Object.keys(value)) if (!isPlainJson(value[key], depth + 1)) return false
      return true
    }
    default:
      return false
  }
}

/** One row as stored: itself when JSON carries it, else a copy whose columns that need it are encoded. */
function encodeRow(row: unknown, index: number): JsonValue {
  if (isPlainJson(row, 0)) return row as JsonValue
  if (!isRecord(row) || Object.hasOwn(row, TAG)) return encodeDehydratedValue(row, `rows[${index}][1]`)
  const encoded: { [key: string]: JsonValue } = {}
  for (const key of Object.keys(row)) {
    const value = row[key]
    setOwn(encoded, key, isPlainJson(value, 1) ? (value as JsonValue) : encodeDehydratedValue(value, `rows[${index}][1].${key}`))
  }
  return encoded
}

/** True when a parsed value holds a tag (or a number JSON should not have produced): it needs the exact decoder. */
function needsDecoding(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (needsDecoding(value[index])) return true
    return false
  }
  const record = value as Record<string, unknown>
  if (Object.hasOwn(record, TAG)) return true
  // `for…in` allocates no key array; objects fresh from `JSON.parse` have no inherited enumerable keys.
  for (const key in record) if (needsDecoding(record[key])) return true
  return false
}

const INTEGER = /^-?\d+$/

/** One stored column: the common bigint tag decoded inline, anything else tagged through the exact decoder. */
function decodeColumn(value: unknown, index: number, key: string): unknown {
  if (typeof value !== 'object' || value === null) return typeof value === 'number' && !Number.isFinite(value) ? decodeDehydratedValue(value, `rows[${index}][1].${key}`) : value
  const record = value as Record<string, unknown>
  const digits = record['v']
  if (record[TAG] === 'bigint' && typeof digits === 'string' && INTEGER.test(digits) && Object.keys(record).length === 2) return BigInt(digits)
  return needsDecoding(value) ? decodeDehydratedValue(value, `rows[${index}][1].${key}`) : value
}

/** A stored row decoded in place (it is fresh from `JSON.parse`); throws `DehydratedStateError` on a bad tag. */
function decodeRow(value: unknown, index: number): unknown {
  if (!isRecord(value) || Object.hasOwn(value, TAG)) return needsDecoding(value) ? decodeDehydratedValue(value, `rows[${index}][1]`) : value
  for (const key in value) {
    const column = value[key]
    const decoded = decodeColumn(column, index, key)
    if (decoded !== column) setOwn(value, key, decoded)
  }
  return value
}

/** Sets an own data property (a `"__proto__"` column stays a column). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  else target[key] = value
}

function drop(reason: string): { kind: 'drop'; reason: string } {
  return { kind: 'drop', reason }
}

function isSchema(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every((column) => isRecord(column) && typeof column['type'] === 'string')
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value) || typeof value !== 'object' || value === null) return value ?? null
  const record = value as Record<string, unknown>
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, canonical(record[key])]))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
