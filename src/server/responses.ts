/**
 * Building `/v1/shape` responses: CORS, `electric-server`, cache-control by case, JSON bodies, 400/409 errors.
 *
 * Invariants (protocol §2, §6):
 * - Every response carries `electric-server`; every `/v1/shape` response carries the CORS headers, which the
 *   handler's CORS policy completes (`access-control-allow-origin`) or strips as it leaves (corsPolicy.ts).
 * - cache-control by case: 409 with a handle `public, max-age=60, must-revalidate`, without one
 *   `public, max-age=1, must-revalidate`; other errors `no-store` plus `surrogate-control: no-store`; `offset=-1`
 *   the long snapshot value; live SSE `public, max-age={sse timeout s − 1, min 1}`; live long-poll
 *   `public, max-age=5, stale-while-revalidate=5`; other 2xx/304 `public, max-age=60, stale-while-revalidate=300`.
 * - A 409 body is the array `[{"headers":{"control":"must-refetch"}}]`, never an SSE stream.
 * - A 5xx body never carries internal text (an error's message, SQL, a stack, a path): only a 5xx built by
 *   {@link serverError} leaves the handler as built; the handler replaces any other 5xx body with the generic one of
 *   its status and reports what it replaced to the handler's `onError`.
 */
import { HEADER } from '../core/protocol'
import type { ValidationErrors } from './requestParams'

/** The `electric-server` value: the Electric release whose protocol this server follows. */
export const SERVER_HEADER_VALUE = 'ElectricSQL/1.7.12'

export const CACHE_CONTROL = {
  snapshot: 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746',
  livePoll: 'public, max-age=5, stale-while-revalidate=5',
  nonLive: 'public, max-age=60, stale-while-revalidate=300',
  conflictWithHandle: 'public, max-age=60, must-revalidate',
  conflictWithoutHandle: 'public, max-age=1, must-revalidate',
  error: 'no-store',
  noCache: 'no-cache',
} as const

/** `public, max-age=59` for the default 60 s SSE lifetime. */
export function sseCacheControl(sseTimeoutMs: number): string {
  return `public, max-age=${Math.max(1, Math.floor(sseTimeoutMs / 1000) - 1)}`
}

const EXPOSED = [
  HEADER.cursor,
  HEADER.handle,
  HEADER.hasData,
  HEADER.offset,
  HEADER.schema,
  HEADER.upToDate,
  HEADER.knownError,
  HEADER.retryAfter,
].join(',')

/** The methods `/v1/shape` answers: its CORS `access-control-allow-methods` and a 405's `allow`, one list. */
export const SHAPE_METHODS = 'GET, POST, HEAD, DELETE, OPTIONS'

/** {@link SHAPE_METHODS} of a handler, without `DELETE` when it does not allow deletion. */
export function shapeMethods(allowDelete: boolean): string {
  return allowDelete ? SHAPE_METHODS : 'GET, POST, HEAD, OPTIONS'
}

/** The methods `/v1/health` answers, for its 405's `allow`. */
export const HEALTH_METHODS = 'GET, HEAD'

/**
 * CORS headers of a `/v1/shape` response; `access-control-allow-origin` is set by the handler's policy
 * (corsPolicy.ts), which may also strip them all. `request` is kept for the callers' convenience.
 */
export function corsHeaders(_request?: Request): Record<string, string> {
  return {
    'access-control-allow-methods': SHAPE_METHODS,
    'access-control-expose-headers': EXPOSED,
  }
}

/** Request headers a page may send: what the shape clients (ours and `@electric-sql/client`) send, nothing more. */
const PREFLIGHT_HEADERS: readonly string[] = ['if-none-match', 'traceparent']
/** A POST subset carries its JSON body as `content-type: application/json`, which is not a CORS-safelisted value. */
const POST_PREFLIGHT_HEADERS: readonly string[] = [...PREFLIGHT_HEADERS, 'content-type']

/**
 * The CORS preflight answer: 204, a day of max-age, and of the requested headers only `if-none-match` and
 * `traceparent`, plus `content-type` for a `POST` (subset snapshots' JSON body).
 */
export function preflight(request: Request): Response {
  const method = request.headers.get('access-control-request-method')?.trim().toUpperCase()
  const allowed = method === 'POST' ? POST_PREFLIGHT_HEADERS : PREFLIGHT_HEADERS
  const requested = (request.headers.get('access-control-request-headers') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => allowed.includes(name))
  const headers: Record<string, string> = { ...corsHeaders(request), 'access-control-max-age': '86400' }
  if (requested.length > 0) headers['access-control-allow-headers'] = requested.join(', ')
  return withServer(new Response(null, { status: 204, headers }))
}

/** A JSON response with `electric-server`. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return withServer(
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    }),
  )
}

/** A 4xx/5xx error with the error cache headers. */
export function errorResponse(request: Request | undefined, status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return json(status, body, {
    ...(request ? corsHeaders(request) : {}),
    'cache-control': CACHE_CONTROL.error,
    'surrogate-control': 'no-store',
    ...extra,
  })
}

const SAFE_SERVER_ERRORS = new WeakSet<Response>()

/** The generic message of a 5xx status: what a client learns about an internal failure. */
export function genericServerMessage(status: number): string {
  return status === 503 ? 'Service temporarily unavailable, retry later' : 'Internal server error'
}

/**
 * A 5xx whose `message` was written for clients (never an error's own text), so the handler lets it through as is.
 * @example
 * return serverError(request, 503, 'Could not create the shape', { 'retry-after': '1' })
 */
export function serverError(request: Request | undefined, status: number, message: string, extra: Record<string, string> = {}): Response {
  const response = errorResponse(request, status, { message }, extra)
  SAFE_SERVER_ERRORS.add(response)
  return response
}

/** Whether `response` is a 5xx built by {@link serverError}. */
export function isSafeServerError(response: Response): boolean {
  return SAFE_SERVER_ERRORS.has(response)
}

/** 400 `{"message":"Invalid request","errors":…}`. */
export function badRequest(request: Request, errors: ValidationErrors): Response {
  return errorResponse(request, 400, { message: 'Invalid request', errors })
}

/** 409 must-refetch, with the handle to use next when there is one. */
export function mustRefetch(request: Request, handle: string | undefined): Response {
  const headers: Record<string, string> = {
    ...corsHeaders(request),
    'cache-control': handle ? CACHE_CONTROL.conflictWithHandle : CACHE_CONTROL.conflictWithoutHandle,
  }
  if (handle) headers[HEADER.handle] = handle
  return json(409, [{ headers: { control: 'must-refetch' } }], headers)
}

export function withServer(response: Response): Response {
  response.headers.set(HEADER.server, SERVER_HEADER_VALUE)
  return response
}

/** The serialised `up-to-date` control message. */
export function upToDateMessage(lsn: bigint): string {
  return JSON.stringify({ headers: { control: 'up-to-date', global_last_seen_lsn: String(lsn) } })
}

/** The tx part of a `TX_OP` offset. */
export function offsetTx(offset: string): bigint {
  const underscore = offset.indexOf('_')
  return underscore === -1 ? 0n : BigInt(offset.slice(0, underscore))
}
