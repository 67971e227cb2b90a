/**
 * Server-side rendering: sync shapes on the server, `dehydrate` them into JSON, `hydrate` that JSON into the browser's
 * client so the first render shows the server's rows and the stream continues live from the server's offset.
 *
 * Invariants:
 * - A dehydrated shape carries what identifies it and nothing secret or callable: url, params, log, liveSse,
 *   lazyJson. Never headers or functions; a shape whose params hold functions is not dehydrated (the browser could
 *   not rebuild its identity). `hydrate`'s `shapeOptions` re-attaches headers, parser, columnMapper, transformer,
 *   fetchClient by identity.
 * - Rows and position agree (see shape.ts: `getHydrationState` returns rows and position only when they agree):
 *   the rows are exactly the rows as of the offset, so the browser's first request is the live one from that
 *   offset, with the server's handle and cursor; no `offset=-1`, no catch-up.
 * - `hydrate` validates and decodes the whole state and resolves every shape's options before it changes any
 *   shape: a bad state throws a `DehydratedStateError` (or the options' own typed error) and hydrates nothing.
 * - An existing shape keeps newer data and a running stream is never touched (see shape.ts: `hydrate` seeds only a
 *   stopped shape holding nothing up to date or older data).
 * - `serializeDehydratedState` output is safe inside an HTML `<script>`: `<`, `>`, `&`, U+2028 and U+2029 only
 *   occur inside JSON strings, where they are written as `\u` escapes, so the text cannot close the script element,
 *   open a comment, or break a JavaScript string literal.
 * - No module state: on a server, a new `ShapeClient` per request (`dehydrateShapes` makes and disposes one).
 */
import type { LogMode, Row, Schema } from './protocol'
import type { ParamValue } from './requestUrl'
import type { Shape, ShapeHydrationState } from './shape'
import type { ShapeClientOptions } from './shapeClient'
import type { ShapeOptions } from './shapeOptions'
import type { StreamStart } from './streamState'
import type { JsonValue } from './dehydratedValue'
import { DehydratedStateError } from './dehydratedStateError'
import { decodeDehydratedValue, encodeDehydratedValue } from './dehydratedValue'
import { compareOffsets, isValidOffset } from './offset'
import { ShapeClient } from './shapeClient'
import { isPlainObject } from './isPlainObject'

/**
 * The serializable part of a shape's options: nothing secret or callable.
 * @example
 * const { url, params } = dehydrate(client).shapes[0]!.options
 */
export interface DehydratedShapeOptions {
  url: string
  params: { table: string } & Record<string, ParamValue>
  log?: LogMode
  liveSse?: boolean
  lazyJson?: boolean
}

/**
 * Where the browser's stream continues: the position its rows are exactly as of.
 * @example
 * const { handle, offset } = dehydrate(client).shapes[0]!.position
 */
export interface DehydratedShapePosition {
  handle: string
  offset: string
  cursor?: string
  schema?: Schema
}

/**
 * One dehydrated shape. `rows` are `[key, row]` pairs rather than `{ key, row }` objects: the state is embedded in
 * every server-rendered page, and the pair does not repeat two property names per row. Row values use the tagged
 * encoding of `dehydratedValue.ts` (bigint, NaN/±Infinity/-0, undefined, Date).
 * @example
 * for (const shape of dehydrate(client).shapes) console.log(shape.options.params.table, shape.rows.length)
 */
export interface DehydratedShape {
  options: DehydratedShapeOptions
  position: DehydratedShapePosition
  rows: Array<[key: string, row: JsonValue]>
  /** Epoch ms of the server's last up-to-date, shown by the browser until its own. */
  lastSyncedAt?: number
}

/**
 * What `dehydrate` returns: JSON-safe (pass it as a prop to a client component, or embed it with
 * `serializeDehydratedState`).
 * @example
 * const state: DehydratedState = dehydrate(client)
 */
export interface DehydratedState {
  version: 1
  shapes: DehydratedShape[]
}

/**
 * Options of `dehydrate`.
 * @example
 * const state = dehydrate(client, { shouldDehydrateShape: (shape) => shape.options.params.table !== 'secrets' })
 */
export interface DehydrateOptions {
  /**
   * Which up-to-date shapes to include (default: all of them). Shapes not up to date are never included (their rows
   * and position may not agree).
   */
  shouldDehydrateShape?(shape: Shape<unknown>): boolean
  /** Converts values the built-in encoding does not carry (decimals, bytes…); sees every value top-down. */
  serializeValue?(value: unknown): unknown
}

/**
 * Options of `hydrate`.
 * @example
 * hydrate(client, state, { only: 'new' })
 */
export interface HydrateOptions {
  /** The inverse of `dehydrate`'s `serializeValue`; sees every decoded value bottom-up. */
  deserializeValue?(value: unknown): unknown
  /**
   * Options merged over a dehydrated shape's own, to re-attach what was not dehydrated (headers and functions
   * never are): headers, parser,
   * columnMapper, transformer, fetchClient, onError… They must be the same (functions by identity) as the components' options,
   * or the components get another shape, which fetches from scratch.
   */
  shapeOptions?(entry: DehydratedShape): Partial<ShapeOptions<unknown>>
  /** `'new'`: only shapes the client does not have yet (what a render may do); default `'all'`. */
  only?: 'all' | 'new'
}

/**
 * Syncs a shape to its first up-to-date on `client` (retain, wait, release), for `dehydrate` to include it.
 * Rejects with the typed error the stream stopped on (a 400, 401…), or with the signal's reason; retryable failures
 * are retried as the stream always does (pass a `signal` to bound the wait). The released shape stays in `client`
 * for its grace period: dehydrate, render, then `client.dispose()`.
 * @example
 * const client = new ShapeClient() // one per request, never module state
 * await prefetchShape(client, { url, params: { table: 'todos' } })
 * const state = dehydrate(client)
 */
export async function prefetchShape<T = Row>(
  client: ShapeClient,
  options: ShapeOptions<T>,
  control: { signal?: AbortSignal } = {},
): Promise<void> {
  const { signal } = control
  signal?.throwIfAborted()
  const shape = client.shape(options)
  const release = shape.retain()
  let onAbort: (() => void) | undefined
  try {
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    await Promise.race([shape.whenUpToDate(), aborted])
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    release()
  }
}

/**
 * On a server, for one request: a new `ShapeClient`, every shape prefetched, the dehydrated state, the client
 * disposed. Never keep a client in module state on a server: it would serve one user's rows to another.
 * @example
 * // A Next.js server component: the state goes as a prop to a 'use client' component holding the HydrationBoundary
 * const state = await dehydrateShapes([{ url, params: { table: 'todos' } }])
 * return <TodosApp state={state} />
 */
export async function dehydrateShapes(
  shapes: readonly ShapeOptions<unknown>[],
  options: DehydrateOptions & { client?: ShapeClientOptions; signal?: AbortSignal } = {},
): Promise<DehydratedState> {
  const { client: clientOptions, signal, ...dehydrateOptions } = options
  const client = new ShapeClient({ visibility: null, ...clientOptions })
  try {
    await Promise.all(shapes.map((shape) => prefetchShape(client, shape, signal ? { signal } : {})))
    return dehydrate(client, dehydrateOptions)
  } finally {
    client.dispose()
  }
}

/**
 * The up-to-date shapes of `client` as JSON-safe data: options (serializable part only), position, rows as of
 * that position, lastSyncedAt.
 * Throws `DehydratedStateError` for a row value the encoding cannot carry and `serializeValue` did not convert.
 * @example
 * const state = dehydrate(client, { shouldDehydrateShape: (shape) => shape.options.params.table !== 'audit' })
 */
export function dehydrate(client: ShapeClient, options: DehydrateOptions = {}): DehydratedState {
  const shapes: DehydratedShape[] = []
  for (const shape of client.getShapes()) {
    const state = shape.getHydrationState()
    const definition = state && dehydrateOptions(shape.options)
    if (!state || !definition) continue
    if (options.shouldDehydrateShape && !options.shouldDehydrateShape(shape)) continue
    const serialize = options.serializeValue?.bind(options)
    const index = shapes.length
    const rows: Array<[string, JsonValue]> = []
    for (const [key, row] of state.rows) {
      rows.push([key, encodeDehydratedValue(row, `shapes[${index}].rows[${rows.length}][1]`, serialize)])
    }
    const position: DehydratedShapePosition = { handle: state.handle, offset: state.offset }
    if (state.cursor !== undefined) position.cursor = state.cursor
    if (state.schema !== undefined) position.schema = state.schema
    const entry: DehydratedShape = { options: definition, position, rows }
    if (state.lastSyncedAt !== undefined) entry.lastSyncedAt = state.lastSyncedAt
    shapes.push(entry)
  }
  return { version: 1, shapes }
}

interface Prepared {
  options: ShapeOptions<unknown>
  state: ShapeHydrationState<unknown>
}

/**
 * Puts dehydrated shapes into `client`: each is created (or found) with `client.shape(options, position)` and seeded,
 * so `getSnapshot()` returns the rows, up to date, at once and without a request; once retained, its first request
 * is the live one from the dehydrated handle, offset and cursor. Existing shapes keep newer data
 * and running streams are not touched.
 * @example
 * const client = new ShapeClient()
 * hydrate(client, parseDehydratedState(document.getElementById('shapes')!.textContent!), {
 *   shapeOptions: () => ({ headers: authHeaders }),
 * })
 */
export function hydrate(client: ShapeClient, state: DehydratedState, options: HydrateOptions = {}): void {
  checkDehydratedState(state)
  const prepared: Prepared[] = []
  state.shapes.forEach((entry, index) => {
    const shapeOptions = { ...entry.options, ...options.shapeOptions?.(entry) } as ShapeOptions<unknown>
    const existing = client.find(shapeOptions)
    if (existing !== undefined && (options.only === 'new' || !mayTake(existing, entry))) return
    const rows = new Map<string, unknown>()
    const deserialize = options.deserializeValue?.bind(options)
    entry.rows.forEach(([key, row], rowIndex) => {
      rows.set(key, decodeDehydratedValue(row, `shapes[${index}].rows[${rowIndex}][1]`, deserialize))
    })
    const { handle, offset, cursor, schema } = entry.position
    prepared.push({ options: shapeOptions, state: { handle, offset, cursor, schema, lastSyncedAt: entry.lastSyncedAt, rows } })
  })
  for (const { options: shapeOptions, state: shapeState } of prepared) {
    const { handle, offset, cursor, schema, lastSyncedAt } = shapeState
    const start: StreamStart = { handle, offset, cursor, schema, lastSyncedAt, upToDateSinceReset: true, resumeLive: true }
    client.shape(shapeOptions, start).hydrate(shapeState)
  }
}

/** A cheap pre-check of `Shape.hydrate`'s rule (stopped, no newer data), so rows it would refuse stay undecoded. */
function mayTake(shape: Shape<unknown>, entry: DehydratedShape): boolean {
  if (shape.getStatus().phase !== 'idle') return false
  const current = shape.getHydrationState()
  if (current === undefined || current.handle !== entry.position.handle) return true
  return compareOffsets(current.offset, entry.position.offset) < 0
}

/**
 * `state` as JSON that is safe to embed in an HTML `<script>` element (nothing in it can close the script, open a
 * comment or break a string literal), e.g.
 * `<script id="shapes" type="application/json">${serializeDehydratedState(state)}</script>`.
 * @example
 * serializeDehydratedState(state).includes('</script>') // false, whatever the rows hold
 */
export function serializeDehydratedState(state: DehydratedState): string {
  return JSON.stringify(state).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Parses the text of `serializeDehydratedState` (or any JSON of a `DehydratedState`) and checks its structure;
 * throws `DehydratedStateError` when it is not one.
 * @example
 * const state = parseDehydratedState(document.getElementById('shapes')!.textContent ?? '')
 */
export function parseDehydratedState(text: string): DehydratedState {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new DehydratedStateError('', 'not JSON', { cause })
  }
  checkDehydratedState(value)
  return value
}

/**
 * Throws `DehydratedStateError` unless `value` has the structure of a `DehydratedState` (row values are checked when
 * decoded, by `hydrate`).
 * @example
 * checkDehydratedState(JSON.parse(text)) // asserts it is a DehydratedState
 */
export function checkDehydratedState(value: unknown): asserts value is DehydratedState {
  if (!isPlainObject(value)) throw new DehydratedStateError('', 'expected an object')
  if (value['version'] !== 1) throw new DehydratedStateError('version', `unsupported version ${JSON.stringify(value['version'])}`)
  const shapes = value['shapes']
  if (!Array.isArray(shapes)) throw new DehydratedStateError('shapes', 'expected an array')
  shapes.forEach((entry: unknown, index) => checkShape(entry, `shapes[${index}]`))
}

function checkShape(entry: unknown, path: string): void {
  if (!isPlainObject(entry)) throw new DehydratedStateError(path, 'expected an object')
  const options = entry['options']
  if (!isPlainObject(options)) throw new DehydratedStateError(`${path}.options`, 'expected an object')
  if (typeof options['url'] !== 'string') throw new DehydratedStateError(`${path}.options.url`, 'expected a string')
  const params = options['params']
  if (!isPlainObject(params) || typeof params['table'] !== 'string') {
    throw new DehydratedStateError(`${path}.options.params`, 'expected an object with a "table" string')
  }
  for (const [name, param] of Object.entries(params)) {
    if (!isParamValue(param)) throw new DehydratedStateError(`${path}.options.params.${name}`, 'not a param value')
  }
  if (options['log'] !== undefined && options['log'] !== 'full' && options['log'] !== 'changes_only') {
    throw new DehydratedStateError(`${path}.options.log`, 'expected "full" or "changes_only"')
  }
  for (const flag of ['liveSse', 'lazyJson']) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new DehydratedStateError(`${path}.options.${flag}`, 'expected a boolean')
    }
  }
  const position = entry['position']
  if (!isPlainObject(position)) throw new DehydratedStateError(`${path}.position`, 'expected an object')
  if (typeof position['handle'] !== 'string' || position['handle'] === '') {
    throw new DehydratedStateError(`${path}.position.handle`, 'expected a non-empty string')
  }
  const offset = position['offset']
  if (typeof offset !== 'string' || offset === '-1' || !isValidOffset(offset)) {
    throw new DehydratedStateError(`${path}.position.offset`, `expected a log offset, got ${JSON.stringify(offset)}`)
  }
  if (position['cursor'] !== undefined && typeof position['cursor'] !== 'string') {
    throw new DehydratedStateError(`${path}.position.cursor`, 'expected a string')
  }
  const schema = position['schema']
  const isColumn = (column: unknown): boolean => isPlainObject(column) && typeof column['type'] === 'string'
  if (schema !== undefined && (!isPlainObject(schema) || !Object.values(schema).every(isColumn))) {
    throw new DehydratedStateError(`${path}.position.schema`, 'expected column name to { type }')
  }
  const rows = entry['rows']
  if (!Array.isArray(rows)) throw new DehydratedStateError(`${path}.rows`, 'expected an array')
  const keys = new Set<string>()
  rows.forEach((row: unknown, index) => {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string') {
      throw new DehydratedStateError(`${path}.rows[${index}]`, 'expected a [key, row] pair')
    }
    if (keys.has(row[0])) throw new DehydratedStateError(`${path}.rows[${index}]`, `duplicate key ${JSON.stringify(row[0])}`)
    keys.add(row[0])
  })
  const lastSyncedAt = entry['lastSyncedAt']
  if (lastSyncedAt !== undefined && (typeof lastSyncedAt !== 'number' || !Number.isFinite(lastSyncedAt))) {
    throw new DehydratedStateError(`${path}.lastSyncedAt`, 'expected a number')
  }
}

/** The serializable part of `options` (no headers, no functions), or undefined when a param is a function. */
function dehydrateOptions(options: ShapeOptions<unknown>): DehydratedShapeOptions | undefined {
  const params: Record<string, ParamValue> = {}
  for (const [name, value] of Object.entries(options.params)) {
    if (value === undefined) continue
    if (!isParamValue(value)) return undefined
    params[name] = Array.isArray(value) ? [...(value as readonly string[])] : isPlainObject(value) ? { ...value } : value
  }
  const result: DehydratedShapeOptions = { url: options.url, params: { ...params, table: options.params.table } }
  if (options.log !== undefined) result.log = options.log
  if (options.liveSse !== undefined) result.liveSse = options.liveSse
  if (options.lazyJson !== undefined) result.lazyJson = options.lazyJson
  return result
}

function isParamValue(value: unknown): value is ParamValue {
  if (typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string')
  return isPlainObject(value) && Object.values(value).every((item) => typeof item === 'string')
}

