/**
 * `createShapeHandler`: the dev shape server as a web-standard `(Request) => Promise<Response>`.
 *
 * Routes (matched as path suffixes): `GET|HEAD /v1/shape` (HEAD answers as GET without a body), `OPTIONS /v1/shape` (preflight),
 * `DELETE /v1/shape` (drops a shape; its clients then get 409), `GET /v1/health`. Anything else is 404/405.
 *
 * Invariants:
 * - A1. The handler never throws: unexpected failures become a 500 JSON response with the error cache headers.
 * - A2. `close()` deletes every shape, which ends held long-polls (409) and SSE streams; it leaves the source open
 *   (the caller owns it).
 */
import { realClock } from '../core/clock'
import type { Clock } from '../core/clock'
import type { HandlerContext, ResolvedHandlerOptions } from './handlerContext'
import { parseShapeQuery } from './requestParams'
import { badRequest, corsHeaders, errorResponse, json, preflight, withServer } from './responses'
import { resolveShapeDefinition } from './shapeDefinition'
import { serveShape } from './shapeGet'
import { ShapeRegistry } from './shapeRegistry'
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
}

/** A request handler with a `close()` that ends every shape. */
export interface ShapeHandler {
  (request: Request): Promise<Response>
  close(): Promise<void>
}

/**
 * Creates the `/v1/shape` handler over `source`.
 * @example
 * const handler = createShapeHandler({ source: createMemorySource() })
 * const response = await handler(new Request('http://localhost/v1/shape?table=items&offset=-1'))
 */
export function createShapeHandler(options: ShapeHandlerOptions): ShapeHandler {
  const resolved: ResolvedHandlerOptions = {
    source: options.source,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    sseTimeoutMs: options.sseTimeoutMs ?? 60_000,
    keepAliveMs: options.keepAliveMs ?? 21_000,
    chunkBytes: options.chunkBytes ?? 10 * 1024 * 1024,
    clock: options.clock ?? realClock,
    random: options.random ?? Math.random,
  }
  const registry = new ShapeRegistry({ source: resolved.source, clock: resolved.clock, chunkBytes: resolved.chunkBytes })
  let stamp = 0
  const context: HandlerContext = {
    options: resolved,
    registry,
    nextStamp: () => (stamp = Math.max(stamp + 1, resolved.clock.now())),
  }

  const handler = async (request: Request): Promise<Response> => {
    try {
      return await route(request, context)
    } catch (error) {
      return errorResponse(request, 500, { message: `Internal server error: ${String(error)}` })
    }
  }
  return Object.assign(handler, { close: () => registry.close() })
}

async function route(request: Request, context: HandlerContext): Promise<Response> {
  // Suffix match, so the handler can be mounted under a prefix (`/api/v1/shape`) by a framework route.
  const path = new URL(request.url).pathname.replace(/\/+$/, '')
  if (path.endsWith('/v1/health')) {
    return request.method === 'GET' || request.method === 'HEAD'
      ? json(200, { status: 'active' })
      : json(405, { message: 'Method not allowed' })
  }
  if (!path.endsWith('/v1/shape')) return withServer(new Response('Not found', { status: 404 }))
  switch (request.method) {
    case 'GET':
      return serveShape(request, context)
    case 'HEAD': {
      const response = await serveShape(request, context)
      await response.body?.cancel()
      return new Response(null, { status: response.status, headers: response.headers })
    }
    case 'OPTIONS':
      return preflight(request)
    case 'DELETE':
      return deleteShape(request, context)
    default:
      return errorResponse(request, 405, { message: `${request.method} not allowed` })
  }
}

/** `DELETE /v1/shape?handle=H` or `?table=T[&where…]`: drops the shape; 202, or 404 when there is none. */
async function deleteShape(request: Request, context: HandlerContext): Promise<Response> {
  const search = new URL(request.url).searchParams
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
