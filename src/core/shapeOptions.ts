/**
 * What a user passes to describe a shape, and the synchronous check that it can describe one.
 *
 * Invariants:
 * - Options are validated when the shape is created, synchronously: a bad option never reaches the network.
 * - `@electric-sql/client`'s options are read, refused or warned about as electricOptions.ts says, never silently
 *   ignored.
 * - No user param may carry a protocol name (`offset`, `handle`, `live`, `cursor`, `cache-buster`, the other
 *   stream-position params, or any `subset__*`): they would corrupt the stream position (`ReservedParamError`).
 */
import type { BackoffOptions } from './backoff'
import type { ColumnMapper } from './columnMapper'
import type { ElectricBackoffOptions } from './electricOptions'
import type { FetchLike } from './fetchLike'
import type { ShapeError } from './errors'
import type { Parser } from './parse'
import type { LogMode, Row } from './protocol'
import type { HeadersInput, ShapeParamsInput } from './requestUrl'
import { checkElectricPosition } from './electricOptions'
import { InvalidOptionsError, ReservedParamError } from './errors'
import { PROTOCOL_PARAMS, RESERVED_PARAMS } from './protocol'

/**
 * What `onError` may return to retry from the same offset and handle; merged into the options.
 * @example
 * onError: async (error) => (error instanceof FetchError && error.status === 401 ? { headers: { authorization: await refreshToken() } } : undefined)
 */
export interface ErrorRecovery {
  headers?: HeadersInput
  params?: Partial<ShapeParamsInput>
}

/**
 * Called for every error the stream does not retry by itself; return `ErrorRecovery` to retry, nothing to stop.
 * @example
 * const onError: OnError = (error) => { report(error) } // returns nothing: the stream stops
 */
export type OnError = (error: ShapeError) => ErrorRecovery | void | Promise<ErrorRecovery | void>

/**
 * Options of one shape. An `@electric-sql/client` options object is taken as it is: `fetchClient` and
 * `backoffOptions` are honoured, `offset`/`handle` are refused (`InvalidOptionsError`), and the options with no
 * effect here are named once per client by a `console.warn` (electricOptions.ts).
 * @example
 * const options: ShapeOptions = { url: 'http://localhost:3000/v1/shape', params: { table: 'items', where: 'done = $1', params: ['false'] } }
 */
export interface ShapeOptions<T = Row> {
  /** The shape endpoint (absolute, or relative to `location` in a browser). */
  url: string
  params: ShapeParamsInput
  headers?: HeadersInput | undefined
  /** `full` (default) or `changes_only`; always sent. */
  log?: LogMode | undefined
  /** Use the SSE live transport when the client has one. */
  liveSse?: boolean | undefined
  /** Per-type value parsers overriding the defaults. */
  parser?: Parser | undefined
  /**
   * Parse `json`/`jsonb` values when a row's property is first read instead of on arrival: rows whose JSON is never
   * read cost their text only, and a sync does less work. Reading stays transparent (`row.payload`, spread,
   * `JSON.stringify`); a value that is not valid JSON throws `ValueParseError` at that read.
   */
  lazyJson?: boolean | undefined
  columnMapper?: ColumnMapper | undefined
  transformer?: ((row: Row) => T) | undefined
  onError?: OnError | undefined
  backoff?: BackoffOptions | undefined
  /**
   * `@electric-sql/client`'s name for `backoff`, with its field names (`initialDelay`, `maxDelay`, `multiplier`,
   * `maxRetries`); a field also set in `backoff` wins. `onFailedAttempt` and `debug` have no effect here (warned once
   * per client).
   */
  backoffOptions?: ElectricBackoffOptions
  /**
   * The `fetch` this shape's requests go through (its stream, long-poll and SSE, and its subset snapshots) instead of
   * the client's `fetch`, e.g. to add credentials. It counts by reference in the shape's identity; the hooks call the
   * latest render's, so an inline one neither makes a new shape nor goes stale. As in `@electric-sql/client`.
   * @example
   * fetchClient: (input, init) => fetch(input, { ...init, credentials: 'include' })
   */
  fetchClient?: FetchLike
  /**
   * Database names of the primary-key columns, in key order, for building row keys (`shape.rowKey`, optimistic
   * writes) before the first response announced them in `electric-schema`, or to override it.
   */
  primaryKey?: readonly string[] | undefined
  /**
   * A live request with no sign of life for this long is abandoned and retried as a `NetworkError` (a dead
   * connection the platform has not noticed): a long-poll without any answer (the server answers within 20 s), an SSE
   * response without data or keep-alive (the server sends one every ~20 s while idle), headers included. Default
   * 45 000 ms; 0 disables.
   */
  liveRequestTimeoutMs?: number | undefined
  /**
   * A non-live request (initial sync, catch-up, refetch after a 409) that receives neither its headers nor any body
   * bytes for this long is abandoned and retried as a `NetworkError`, so no request can keep a shape `syncing`
   * forever. The bound restarts with every chunk: a large snapshot that keeps arriving is never cut. Default
   * 45 000 ms; 0 disables.
   */
  requestTimeoutMs?: number | undefined
}

/**
 * Defines a shape once, for every place that uses it: `prefetchShape` on a server, `client.shape`, and the hooks
 * (`useShape`, `useSuspenseShape`, `useShapeStatus`, `useShapeRow`, `useShapeKeys`). It returns its argument
 * unchanged, typed with the row type, so each of those infers the rows without repeating the generic (as TanStack
 * Query's `queryOptions` does). Validation happens where the shape is created, as for any options.
 * @example
 * export const todosShape = shapeOptions<Todo>({ url: 'https://example.com/v1/shape', params: { table: 'todos' } })
 * await prefetchShape(client, todosShape)            // on the server
 * const { data } = useShape(todosShape)              // data: readonly Todo[]
 * const done = useShape({ ...todosShape, selector: (r) => r.data.filter((t) => t.done) })
 */
export function shapeOptions<T = Row>(options: ShapeOptions<T>): ShapeOptions<T> {
  return options
}

const REPLICAS: readonly string[] = ['default', 'full']
const LOG_MODES: readonly string[] = ['full', 'changes_only']
const DEFINITION_PARAMS: readonly string[] = ['table', 'where', 'params', 'columns', 'replica']

/** True for a param name only the protocol may set. */
export function isReservedParam(name: string): boolean {
  return RESERVED_PARAMS.includes(name) || PROTOCOL_PARAMS.includes(name) || name.startsWith('subset__')
}

/**
 * Throws `InvalidOptionsError` or `ReservedParamError` when `options` cannot describe a shape.
 * @example
 * validateShapeOptions({ url: 'http://x/v1/shape', params: { table: 'items', offset: '0_0' } }) // throws ReservedParamError
 */
export function validateShapeOptions(options: ShapeOptions<unknown>): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('Shape options must be an object')
  if (typeof options.url !== 'string' || options.url === '') throw new InvalidOptionsError('Shape option "url" is required')
  try {
    new URL(options.url, (globalThis as { location?: { href?: string } }).location?.href)
  } catch (cause) {
    throw new InvalidOptionsError(`Shape option "url" is not a valid URL: ${options.url}`, { cause })
  }
  const params = options.params as ShapeParamsInput | undefined
  if (typeof params !== 'object' || params === null) throw new InvalidOptionsError('Shape option "params" with a "table" is required')
  if (typeof params.table !== 'string' || params.table.trim() === '') {
    throw new InvalidOptionsError('Shape param "table" is required and must be a non-empty string')
  }
  if (params.replica !== undefined && !REPLICAS.includes(params.replica)) {
    throw new InvalidOptionsError(`Shape param "replica" must be "default" or "full", got ${JSON.stringify(params.replica)}`)
  }
  if (options.log !== undefined && !LOG_MODES.includes(options.log)) {
    throw new InvalidOptionsError(`Shape option "log" must be "full" or "changes_only", got ${JSON.stringify(options.log)}`)
  }
  checkDefinitionParams(params)
  const reserved = Object.keys(params).filter(isReservedParam)
  if (reserved.length > 0) throw new ReservedParamError(reserved)
  if (options.headers !== undefined && (typeof options.headers !== 'object' || options.headers === null)) {
    throw new InvalidOptionsError('Shape option "headers" must be an object')
  }
  for (const name of ['onError', 'fetchClient'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new InvalidOptionsError(`Shape option "${name}" must be a function`)
  }
  checkElectricPosition(options)
  if (
    options.primaryKey !== undefined &&
    (!Array.isArray(options.primaryKey) || options.primaryKey.length === 0 || !options.primaryKey.every((name) => typeof name === 'string' && name !== ''))
  ) {
    throw new InvalidOptionsError(`Shape option "primaryKey" must be a non-empty array of column names, got ${JSON.stringify(options.primaryKey)}`)
  }
  for (const flag of ['liveSse', 'lazyJson'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidOptionsError(`Shape option "${flag}" must be a boolean, got ${JSON.stringify(options[flag])}`)
    }
  }
}

function checkDefinitionParams(params: ShapeParamsInput): void {
  const { where, columns } = params
  if (where !== undefined && typeof where !== 'string' && typeof where !== 'function') {
    throw new InvalidOptionsError('Shape param "where" must be a string')
  }
  if (columns !== undefined && typeof columns !== 'function') {
    if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c: unknown) => typeof c === 'string' && c !== '')) {
      throw new InvalidOptionsError('Shape param "columns" must be a non-empty array of column names')
    }
  }
  const positional = params.params
  if (positional !== undefined && typeof positional !== 'function') {
    const values: unknown[] = Array.isArray(positional)
      ? positional
      : typeof positional === 'object' && positional !== null
        ? Object.values(positional)
        : [positional]
    if (!values.every((value) => typeof value === 'string')) {
      throw new InvalidOptionsError('Shape param "params" must be an array of strings or a record of position to string')
    }
  }
  for (const name of DEFINITION_PARAMS) {
    if (name in params && params[name] === null) throw new InvalidOptionsError(`Shape param "${name}" must not be null`)
  }
}
