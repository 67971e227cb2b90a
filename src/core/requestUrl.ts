/**
 * Building the URL of one shape request from the user's params and the stream position.
 *
 * Invariants:
 * - All query params are sorted alphabetically, so equal requests have byte-equal URLs (CDN collapsing).
 * - `log` is always sent; `params` always in the bracket form `params[n]=v` (a JSON string is not accepted by
 *   the server); `columns` always double-quoted (`"` doubled) and comma-joined.
 * - With a column mapper, `columns` and the identifiers of `where` are sent in database names (`encode`), on every
 *   request of the shape, subset requests included (so they name the same shape); a subset's own `where` is not.
 * - Function-valued headers and params are resolved in parallel, once per request, never cached.
 * - Position params (`offset`, `handle`, `live`, `cursor`, `cache-buster`, `expired_handle`) come only from the
 *   stream, never from the user (see `validateShapeOptions`).
 */
import type { LogMode, Replica } from './protocol'
import { InvalidOptionsError } from './errors'
import { encodeWhereColumns } from './columnMapper'
import { PARAM } from './protocol'

/**
 * A value, or a function (maybe async) computing it on every request (auth tokens…).
 * @example
 * const token: MaybeAsync<string> = async () => `Bearer ${await getToken()}`
 */
export type MaybeAsync<V> = V | (() => V | Promise<V>)

/**
 * A param value as given by the user. Arrays are comma-joined; records become `key[k]=v`.
 * @example
 * params: { table: 'todos', columns: ['id', 'title'], tenant: 'acme' } // columns=id,title&tenant=acme
 */
export type ParamValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>

/**
 * The shape's query params: the definition plus custom params passed through to the server or a proxy.
 * @example
 * const params: ShapeParamsInput = { table: 'todos', where: 'done = $1', params: ['false'], columns: ['id', 'title'] }
 */
export interface ShapeParamsInput {
  /** `name`, `schema.name` or a quoted identifier. */
  table: string
  where?: MaybeAsync<string | undefined>
  /** Positional `$1..$n` values of `where`: an array (keys 1..n) or a record keyed by position. */
  params?: MaybeAsync<readonly string[] | Readonly<Record<string, string>> | undefined>
  columns?: MaybeAsync<readonly string[] | undefined>
  replica?: Replica
  [custom: string]: MaybeAsync<ParamValue | undefined> | undefined
}

/**
 * Request headers; values may be functions resolved on every request. `undefined` drops the header.
 * @example
 * const headers: HeadersInput = { authorization: () => `Bearer ${session.token}`, 'x-tenant': 'acme' }
 */
export type HeadersInput = Readonly<Record<string, MaybeAsync<string | undefined>>>

/** Params after resolution: plain values only. */
export type ResolvedParams = Readonly<Record<string, ParamValue | undefined>>

/** Where a request sits in the shape log (from `streamState.requestPosition`). */
export interface RequestPosition {
  offset: string
  handle: string | undefined
  live: boolean
  cursor: string | undefined
  cacheBuster: string | undefined
  expiredHandle: string | undefined
}

/** Everything `buildRequestUrl` needs. */
export interface RequestUrlInput {
  url: string
  params: ResolvedParams
  log: LogMode
  position: RequestPosition
  /** Maps app column names to database names for `columns` and the identifiers of `where` (the column mapper's `encode`). */
  encodeColumn?: ((name: string) => string) | undefined
  /** Params a live runner adds (e.g. `live_sse=true`). */
  extraParams?: Readonly<Record<string, string>> | undefined
}

/**
 * Resolves function-valued headers and params in parallel.
 * @example
 * const { headers, params } = await resolveRequestInputs({ Authorization: async () => `Bearer ${await token()}` }, { table: 'items' })
 */
export function resolveRequestInputs(
  headers: HeadersInput | undefined,
  params: ShapeParamsInput,
): Promise<{ headers: Record<string, string>; params: ResolvedParams }> {
  const resolvedHeaders: Record<string, string> = {}
  const resolvedParams: Record<string, ParamValue | undefined> = {}
  const pending: Array<Promise<void>> = []
  const setHeader = (key: string, value: unknown): void => {
    if (value === undefined) return
    if (typeof value !== 'string') throw new InvalidOptionsError(`Header "${key}" must be a string, got ${typeof value}`)
    resolvedHeaders[key] = value
  }
  try {
    for (const [key, input] of Object.entries(headers ?? {})) {
      if (typeof input === 'function') pending.push(Promise.resolve(input()).then((value) => setHeader(key, value)))
      else setHeader(key, input)
    }
    for (const [key, input] of Object.entries(params)) {
      if (typeof input === 'function') pending.push(Promise.resolve(input()).then((value) => void (resolvedParams[key] = value)))
      else resolvedParams[key] = input
    }
  } catch (error) {
    return Promise.reject(error)
  }
  const result = { headers: resolvedHeaders, params: resolvedParams }
  // Plain values need no extra turns of the event loop; functions run in parallel.
  return pending.length === 0 ? Promise.resolve(result) : Promise.all(pending).then(() => result)
}

/**
 * The full request URL, params sorted.
 * @example
 * buildRequestUrl({ url: 'http://localhost:3000/v1/shape', params: { table: 'items' }, log: 'full',
 *   position: { offset: '-1', handle: undefined, live: false, cursor: undefined, cacheBuster: undefined, expiredHandle: undefined } })
 * // 'http://localhost:3000/v1/shape?log=full&offset=-1&table=items'
 */
export function buildRequestUrl(input: RequestUrlInput): string {
  const url = new URL(input.url, baseHref())
  const query = url.searchParams
  for (const [key, value] of Object.entries(input.params)) {
    if (value === undefined) continue
    if (key === PARAM.params) setPositionalParams(query, value)
    else if (key === PARAM.columns) query.set(key, encodeColumns(value, input.encodeColumn))
    else if (key === PARAM.where && typeof value === 'string' && input.encodeColumn) query.set(key, encodeWhereColumns(value, input.encodeColumn))
    else setCustomParam(query, key, value)
  }
  query.set(PARAM.log, input.log)
  const position = input.position
  query.set(PARAM.offset, position.offset)
  if (position.handle !== undefined) query.set(PARAM.handle, position.handle)
  if (position.live) {
    query.set(PARAM.live, 'true')
    if (position.cursor !== undefined) query.set(PARAM.cursor, position.cursor)
  }
  if (position.cacheBuster !== undefined) query.set(PARAM.cacheBuster, position.cacheBuster)
  if (position.expiredHandle !== undefined) query.set(PARAM.expiredHandle, position.expiredHandle)
  for (const [key, value] of Object.entries(input.extraParams ?? {})) query.set(key, value)
  query.sort()
  return url.toString()
}

function baseHref(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href
}

function setPositionalParams(query: URLSearchParams, value: ParamValue): void {
  if (Array.isArray(value)) {
    value.forEach((item: string, index: number) => query.set(`${PARAM.params}[${index + 1}]`, item))
    return
  }
  if (typeof value === 'object' && value !== null) {
    for (const [position, item] of Object.entries(value)) query.set(`${PARAM.params}[${position}]`, item)
    return
  }
  throw new InvalidOptionsError('params.params must be an array of strings or a record of position to string')
}

function encodeColumns(value: ParamValue, encode: ((name: string) => string) | undefined): string {
  if (!Array.isArray(value)) throw new InvalidOptionsError('params.columns must be an array of column names')
  return value
    .map((name: string) => `"${(encode ? encode(name) : name).replaceAll('"', '""')}"`)
    .join(',')
}

function setCustomParam(query: URLSearchParams, key: string, value: ParamValue): void {
  if (Array.isArray(value)) query.set(key, value.join(','))
  else if (typeof value === 'object' && value !== null) {
    for (const [field, item] of Object.entries(value)) query.set(`${key}[${field}]`, String(item))
  } else query.set(key, String(value))
}
