/**
 * One persisted shape as stored: its definition key, stream position, schema, rows and format version, as a string.
 *
 * Invariants:
 * - An entry holds rows and position that agree (`Shape.getHydrationState`, shape.ts SH4): rows exactly as of the
 *   offset, so a reload resumes live from that offset without refetching anything.
 * - Row values use the tagged encoding of hydration (`dehydratedValue.ts`): bigint, NaN/±Infinity/-0, undefined and
 *   Date come back as they went in.
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
  for (const [key, row] of state.rows) rows.push([key, encodeDehydratedValue(row, `rows[${rows.length}][1]`)])
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
      decoded.set(pair[0], decodeDehydratedValue(pair[1], `rows[${index}][1]`) as T)
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
