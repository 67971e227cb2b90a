/**
 * `createShapeHandler`: the dev shape server as a web-standard `(Request) => Promise<Response>`.
 *
 * Routes (matched as path suffixes): `GET|HEAD /v1/shape` (HEAD answers as GET without a body), `POST /v1/shape` (a
 * subset snapshot with a JSON body), `OPTIONS /v1/shape` (preflight), `DELETE /v1/shape` (drops a shape; its clients
 * then get 409), `GET /v1/health`. Anything else is 404/405.
 *
 * Invariants:
 * - A1. The handler never throws: unexpected failures become a 500 JSON response with the error cache headers.
 * - A2. `close()` deletes every shape, which ends held long-polls (409) and SSE streams; it leaves the source open
 *   (the caller owns it).
 * - A3. With `secret` set, every `/v1/shape` request but a preflight (`OPTIONS`) must carry it as the `secret` param
 *   (or the legacy `api_secret`), or gets 401 `{"message":"Unauthorized - Invalid API secret"}` before anything else
 *   is read (protocol §1.4), an unsupported method included. Preflight and health stay open. Without `secret` the
 *   server is open, as Electric's insecure mode.
 * - A4. `POST /v1/shape` is Electric's subset snapshot request with its params in a JSON body, answered as the GET
 *   form is (subsetSnapshot.ts N1–N5); 401 first under A3.
 */
import { realClock } from '../core/clock'
import type { Clock } from '../core/clock'
import type { HandlerContext, ResolvedHandlerOptions } from './handlerContext'
import { parseShapeQuery } from './requestParams'
import { badRequest, corsHeaders, errorResponse, HEALTH_METHODS, json, preflight, SHAPE_METHODS, withServer } from './responses'
import { resolveShapeDefinition } from './shapeDefinition'
import { serveShape } from './shapeGet'
import { handlerStats, resolveHandlerLimits, type ShapeHandlerStats } from './handlerLimits'
import { ShapeRegistry } from './shapeRegistry'
import { SnapshotGate } from './snapshotGate'
import type { WhereLimits } from './where/whereLimits'
import type { ChangeSource } from './sources/source'

export interface ShapeHandlerOptions {
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
  /** When set, shape requests must carry it as `secret` (or `api_secret`), as with Electric's `ELECTRIC_SECRET` (A3). */
  secret?: string
  /** Size limits of `where` / `params` (shapes' and subsets'); unset fields keep their defaults (handlerLimits.ts). */
  whereLimits?: Partial<WhereLimits>
  /** `statement_timeout` of each snapshot query, ms. Default 10 000. */
  snapshotTimeoutMs?: number
  /** Snapshot queries run at once, across all clients; the others queue. Default 3. */
  maxConcurrentSnapshots?: number
  /** Snapshot queries allowed to queue; beyond, 503 with `retry-after`. Default 32. */
  maxQueuedSnapshots?: number
  /** Most shapes kept; idle ones are evicted least recently used first. Default 1 000. */
  maxShapes?: number
  /** Approximate bound on the shapes' messages (UTF-16 code units of their JSON), as `maxShapes`. Default 256 MiB. */
  maxShapeBytes?: number
  /** Bytes an SSE body queues for a reader that does not read. Default 64 KiB. */
  sseBufferBytes?: number
  /** Bytes of log an SSE reader may fall behind before the stream is cut (it reconnects). Default 4 MiB. */
  sseMaxLagBytes?: number
}

/** A request handler with a `close()` that ends every shape. */
export interface ShapeHandler {
  (request: Request): Promise<Response>
  close(): Promise<void>
  /** What the handler holds now (shapes, snapshot queries, SSE buffers). */
  stats(): ShapeHandlerStats
}

/**
 * Creates the `/v1/shape` handler over `source`.
 * @example
 * const handler = createShapeHandler({ source: createMemorySource() })
 * const response = await handler(new Request('http://localhost/v1/shape?table=items&offset=-1'))
 */
export function createShapeHandler(options: ShapeHandlerOptions): ShapeHandler {
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
  }
  const gate = new SnapshotGate(limits.gate)
  const registry = new ShapeRegistry({ source: resolved.source, clock: resolved.clock, chunkBytes: resolved.chunkBytes, gate, ...limits.registry })
  let stamp = 0
  const context: HandlerContext = {
    options: resolved,
    registry,
    gate,
    sse: { open: new Set(), cut: 0 },
    nextStamp: () => (stamp = Math.max(stamp + 1, resolved.clock.now())),
  }

  const handler = async (request: Request): Promise<Response> => {
    try {
      return await route(request, context)
    } catch (error) {
      return errorResponse(request, 500, { message: `Internal server error: ${String(error)}` })
    }
  }
  return Object.assign(handler, { close: () => registry.close(), stats: () => handlerStats(context) })
}

/** A3: the request carries the handler's secret, or the handler has none. */
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

async function route(request: Request, context: HandlerContext): Promise<Response> {
  // Suffix match, so the handler can be mounted under a prefix (`/api/v1/shape`) by a framework route.
  const url = new URL(request.url)
  const path = url.pathname.replace(/\/+$/, '')
  if (path.endsWith('/v1/health')) {
    return request.method === 'GET' || request.method === 'HEAD'
      ? json(200, { status: 'active' })
      : json(405, { message: 'Method not allowed' }, { allow: HEALTH_METHODS })
  }
  if (!path.endsWith('/v1/shape')) return withServer(new Response('Not found', { status: 404 }))
  if (request.method !== 'OPTIONS' && !authorized(url, context.options.secret)) {
    return errorResponse(request, 401, { message: 'Unauthorized - Invalid API secret' })
  }
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
      return deleteShape(request, url.searchParams, context)
    case 'POST':
      return (await import('./subsetSnapshot')).serveSubsetPost(request, url.searchParams, context)
    default:
      return errorResponse(request, 405, { message: `${request.method} not allowed` }, { allow: SHAPE_METHODS })
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
    const definition = await resolveShapeDefinition(parsed.value, context.options.source)
    if (!definition.ok) return badRequest(request, definition.errors)
    log = context.registry.current(definition.value.key)
  }
  if (!log) return errorResponse(request, 404, { message: 'Shape not found' })
  context.registry.delete(log)
  return withServer(new Response(null, { status: 202, headers }))
}
