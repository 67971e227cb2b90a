/**
 * `createShapeHandler`: the dev shape server as a web-standard `(Request) => Promise<Response>`.
 *
 * Routes (matched as path suffixes): `GET|HEAD /v1/shape` (HEAD answers as GET without a body), `POST /v1/shape` (a
 * subset snapshot with a JSON body), `OPTIONS /v1/shape` (preflight), `DELETE /v1/shape` (drops a shape; its clients
 * then get 409), `GET /v1/health`. Anything else is 404/405.
 *
 * The handler is mounted inside users' apps (a Next.js route handler), so every request is treated as hostile.
 *
 * Invariants:
 * - Options of the wrong kind fail `createShapeHandler` itself, with the error named in its doc, never a request.
 * - The handler never throws: unexpected failures become a 500 JSON response with the error cache headers and a
 *   generic message; the failure itself goes to `onError` (default `console.error`), never into the response
 *   (responses.ts: a 5xx body carries no internal text). What fails because the client left (its request's signal
 *   aborted) is not reported: a disconnect is no server failure, and logging it would bury the real ones.
 * - `close()` deletes every shape, which ends held long-polls (409) and SSE streams, and so does every shape that
 *   requests in flight at the close create (shapeRegistry.ts); it leaves the source open (the caller owns it).
 * - With `secret` set, every `/v1/shape` request but a preflight (`OPTIONS`) must carry it as the `secret` param
 *   (or the legacy `api_secret`), or gets 401 `{"message":"Unauthorized - Invalid API secret"}` before anything else
 *   is read (protocol §1.4), an unsupported method included. Preflight and health stay open. Without `secret` the
 *   server is open, as Electric's insecure mode.
 * - `POST /v1/shape` is Electric's subset snapshot request with its params in a JSON body, answered as the GET
 *   form is (subsetSnapshot.ts); 401 first under the `secret` rule.
 * - A request body is read only once the request is authenticated and routed to `POST /v1/shape`, and never past
 *   `maxBodyBytes` (requestBody.ts): a larger one is a 413 as soon as that is known. A body no route reads is
 *   cancelled before the response leaves.
 * - Shapes read only the tables the allow-list serves (tableAccess.ts), checked before the source is asked anything.
 * - `DELETE /v1/shape` is served only when `allowDelete` is true, which is its default when a `secret` is set (so
 *   a deletion carries the secret); otherwise it is a 405 and `DELETE` is not among the allowed methods.
 * - Every `/v1/shape` response leaves through the CORS policy (corsPolicy.ts).
 */
import { realClock } from '../core/clock'
import { InvalidOptionsError } from '../core/errors'
import { invalidOption } from '../core/internal'
import type { Clock } from '../core/clock'
import { applyCors, corsOrigins } from './corsPolicy'
import type { CorsOptions, CorsOrigins } from './corsPolicy'
import type { HandlerContext, ResolvedHandlerOptions } from './handlerContext'
import { DEFAULT_MAX_BODY_BYTES, discard, readBodyText } from './requestBody'
import { parseShapeQuery } from './requestParams'
import {
  badRequest,
  corsHeaders,
  errorResponse,
  genericServerMessage,
  HEALTH_METHODS,
  isSafeServerError,
  json,
  preflight,
  serverError,
  shapeMethods,
  withServer,
} from './responses'
import { resolveShapeDefinition } from './shapeDefinition'
import { serveShape } from './shapeGet'
import { handlerStats, resolveHandlerLimits, type HandlerLimitOptions, type ShapeHandlerStats } from './handlerLimits'
import { ShapeRegistry } from './shapeRegistry'
import { SnapshotGate } from './snapshotGate'
import type { ChangeSource } from './sources/source'
import { createTableAccess } from './tableAccess'

/** The handler's options; its resource bounds (`whereLimits`, `maxShapes`…) are `HandlerLimitOptions`. */
export interface ShapeHandlerOptions extends HandlerLimitOptions {
  source: ChangeSource
  /** How long a live long-poll is held without changes. Default 20 000 ms. */
  longPollTimeoutMs?: number
  /** How long a live SSE stream stays open. Default 60 000 ms. */
  sseTimeoutMs?: number
  /** Idle time after which an SSE stream gets a keep-alive comment. Default 21 000 ms. */
  keepAliveMs?: number
  /** Snapshot/log chunk threshold. Default 10 MiB. */
  chunkBytes?: number
  clock?: Clock
  /** Uniform in [0, 1); used for cursor bumps. Default `Math.random`. */
  random?: () => number
  /** When set, shape requests must carry it as `secret` (or `api_secret`), as with Electric's `ELECTRIC_SECRET`. */
  secret?: string
  /**
   * Tables served, as `name` (in `public`) or `schema.name`. With `schemas`, the union of both is served; with
   * neither, the `public` schema's tables. System schemas (`pg_catalog`, `information_schema`, `pg_*`) never are.
   */
  tables?: readonly string[]
  /** Schemas whose every table is served (see `tables`). */
  schemas?: readonly string[]
  /** The largest request body read (a `POST /v1/shape`), in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number
  /** Whether `DELETE /v1/shape` drops shapes. Default: true when `secret` is set (deletions then carry it), else false. */
  allowDelete?: boolean
  /**
   * Which browser origins may read responses: `{ origins }`, or the origins themselves (a list of exact origins,
   * `'*'`, or a predicate). Default: any origin except `null`.
   */
  cors?: CorsOptions | CorsOrigins
  /** Receives internal failures, whose text never goes into a response. Default `console.error`. */
  onError?: (error: unknown, request: Request) => void
}

/** A request handler with a `close()` that ends every shape. */
export interface ShapeHandler {
  (request: Request): Promise<Response>
  close(): Promise<void>
  /** What the handler holds now (shapes, snapshot queries, SSE buffers). */
  stats(): ShapeHandlerStats
}

/**
 * Creates the `/v1/shape` handler over `source`. Throws a `TableAccessError` for a malformed or system-schema
 * `tables`/`schemas` entry, a `RangeError` for a `maxBodyBytes` or resource bound out of range, and an
 * `InvalidOptionsError` for options of the wrong kind (no `source`, a `cors` or `onError` it cannot use).
 * @example
 * const handler = createShapeHandler({ source: createMemorySource(), tables: ['items'] })
 * const response = await handler(new Request('http://localhost/v1/shape?table=items&offset=-1'))
 */
export function createShapeHandler(options: ShapeHandlerOptions): ShapeHandler {
  checkHandlerOptions(options)
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${String(options.maxBodyBytes)}`)
  }
  const allowDelete = options.allowDelete ?? options.secret !== undefined
  const limits = resolveHandlerLimits(options)
  const resolved: ResolvedHandlerOptions = {
    ...limits.context,
    source: options.source,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    sseTimeoutMs: options.sseTimeoutMs ?? 60_000,
    keepAliveMs: options.keepAliveMs ?? 21_000,
    chunkBytes: options.chunkBytes ?? 10 * 1024 * 1024,
    clock: options.clock ?? realClock,
    random: options.random ?? Math.random,
    secret: options.secret,
    access: createTableAccess({
      ...(options.tables === undefined ? {} : { tables: options.tables }),
      ...(options.schemas === undefined ? {} : { schemas: options.schemas }),
    }),
    maxBodyBytes,
    allowDelete,
    cors: { origins: corsOrigins(options.cors), methods: shapeMethods(allowDelete) },
  }
  const onError = options.onError ?? ((error: unknown) => console.error('live-shapes server:', error))
  const gate = new SnapshotGate(limits.gate)
  const registry = new ShapeRegistry({ source: resolved.source, clock: resolved.clock, chunkBytes: resolved.chunkBytes, gate, ...limits.registry })
  let stamp = 0
  const context: HandlerContext = {
    options: resolved,
    registry,
    gate,
    sse: { open: new Set(), cut: 0 },
    nextStamp: () => (stamp = Math.max(stamp + 1, resolved.clock.now())),
    reportError: (error, request) => {
      try {
        onError(error, request)
      } catch {
        // A failing logger must not turn a response into a throw.
      }
    },
  }

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    // Suffix match, so the handler can be mounted under a prefix (`/api/v1/shape`) by a framework route.
    const path = url.pathname.replace(/\/+$/, '')
    let response: Response
    try {
      response = await route(request, url, path, context)
    } catch (error) {
      if (!request.signal.aborted) context.reportError(error, request)
      response = serverError(request, 500, genericServerMessage(500))
    }
    response = await withoutInternalText(request, response, context)
    await discard(request)
    return path.endsWith('/v1/shape') ? applyCors(request, response, resolved.cors) : response
  }
  return Object.assign(handler, { close: () => registry.close(), stats: () => handlerStats(context) })
}

/** A 5xx not built for clients (responses.ts) is replaced by its generic form; its text goes to `onError`. */
async function withoutInternalText(request: Request, response: Response, context: HandlerContext): Promise<Response> {
  if (response.status < 500 || isSafeServerError(response)) return response
  const text = await response.text().catch(() => '')
  context.reportError(new Error(`a ${response.status} response carried internal text: ${text}`), request)
  const retryAfter = response.headers.get('retry-after')
  return serverError(request, response.status, genericServerMessage(response.status), retryAfter === null ? {} : { 'retry-after': retryAfter })
}

/** The request carries the handler's secret, or the handler has none. */
function authorized(url: URL, secret: string | undefined): boolean {
  if (secret === undefined) return true
  const params = url.searchParams
  const given = params.get('secret') ?? params.get('api_secret')
  return given !== null && sameText(given, secret)
}

/** String equality whose time does not depend on where the strings first differ. */
function sameText(a: string, b: string): boolean {
  let difference = a.length ^ b.length
  for (let index = 0; index < b.length; index++) difference |= (a.charCodeAt(index) || 0) ^ b.charCodeAt(index)
  return difference === 0
}

async function route(request: Request, url: URL, path: string, context: HandlerContext): Promise<Response> {
  const { options } = context
  if (path.endsWith('/v1/health')) {
    return request.method === 'GET' || request.method === 'HEAD'
      ? json(200, { status: 'active' })
      : json(405, { message: 'Method not allowed' }, { allow: HEALTH_METHODS })
  }
  if (!path.endsWith('/v1/shape')) return errorResponse(undefined, 404, { message: 'Not found' })
  if (request.method !== 'OPTIONS' && !authorized(url, options.secret)) {
    return errorResponse(request, 401, { message: 'Unauthorized - Invalid API secret' })
  }
  const notAllowed = (): Response =>
    errorResponse(request, 405, { message: `${request.method} not allowed` }, { allow: options.cors.methods })
  switch (request.method) {
    case 'GET':
      return serveShape(request, url.searchParams, context)
    case 'HEAD': {
      const response = await serveShape(request, url.searchParams, context)
      await response.body?.cancel()
      return new Response(null, { status: response.status, headers: response.headers })
    }
    case 'OPTIONS':
      return preflight(request)
    case 'DELETE':
      return options.allowDelete ? deleteShape(request, url.searchParams, context) : notAllowed()
    case 'POST': {
      // Only now, authenticated and routed, is the body read, and never past the cap.
      const body = await readBodyText(request, options.maxBodyBytes)
      if (!body.ok) {
        return body.reason === 'too-large'
          ? errorResponse(request, 413, {
              message: 'Request body too large',
              errors: { body: [`must be at most ${options.maxBodyBytes} bytes`] },
            })
          : badRequest(request, { body: ['could not be read'] })
      }
      const buffered = new Request(request.url, { method: 'POST', headers: request.headers, body: body.text, signal: request.signal })
      return (await import('./subsetSnapshot')).serveSubsetPost(buffered, url.searchParams, context)
    }
    default:
      return notAllowed()
  }
}

/** `DELETE /v1/shape?handle=H` or `?table=T[&where…]`: drops the shape; 202, or 404 when there is none. */
async function deleteShape(request: Request, search: URLSearchParams, context: HandlerContext): Promise<Response> {
  const handle = search.get('handle')
  const headers = { ...corsHeaders(request), 'cache-control': 'no-cache' }
  let log = handle ? context.registry.byHandle(handle) : undefined
  if (!handle && !search.get('table')) {
    return badRequest(request, { handle: ["can't be blank when shape definition is missing"] })
  }
  if (!handle) {
    const definitionSearch = new URLSearchParams(search)
    definitionSearch.set('offset', '-1')
    for (const name of ['live', 'live_sse', 'experimental_live_sse']) definitionSearch.delete(name)
    const parsed = parseShapeQuery(definitionSearch)
    if (!parsed.ok) return badRequest(request, parsed.errors)
    const definition = await resolveShapeDefinition(parsed.value, context.options.source, context.options.access, context.options.whereLimits)
    if (!definition.ok) return badRequest(request, definition.errors)
    log = context.registry.current(definition.value.key)
  }
  if (!log) return errorResponse(request, 404, { message: 'Shape not found' })
  context.registry.delete(log)
  return withServer(new Response(null, { status: 202, headers }))
}

const SOURCE_METHODS = ['describeTable', 'snapshot', 'subscribe', 'currentLsn', 'close'] as const

/** What `createShapeHandler` checks before it builds anything (the limits and allow-list have their own checks). */
function checkHandlerOptions(options: unknown): asserts options is ShapeHandlerOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('createShapeHandler options', 'an object', options)
  const { source, onError } = options as { source?: unknown; onError?: unknown }
  const isSource =
    typeof source === 'object' && source !== null && SOURCE_METHODS.every((name) => typeof (source as Record<string, unknown>)[name] === 'function')
  if (!isSource) {
    throw new InvalidOptionsError(
      'createShapeHandler option "source" must be a change source: createMemorySource(), await createPGliteSource() or await createPostgresSource({ databaseUrl })',
    )
  }
  if (onError !== undefined && typeof onError !== 'function') throw invalidOption('createShapeHandler option "onError"', 'a function', onError)
}
