/**
 * `GET /v1/shape`: validation, shape lookup (`findShape.ts`: 400/409/503 refusals) and the snapshot / `now` / catch-up / long-poll
 * answers. SSE answers are built by `sseStream.ts`, subset snapshots (`subset__*` params) by `subsetSnapshot.ts`.
 *
 * Invariants (protocol §2, §4):
 * - `offset=-1` serves snapshot chunk 0 at `0_0`: never `electric-up-to-date`, never an up-to-date message.
 * - A response is up to date iff it reaches the log's end; then it ends with an up-to-date message whose LSN is
 *   the chunk end's tx for live responses with data, `max(source LSN, chunk end tx)` for non-live ones, and the
 *   source LSN (else the shape's last tx) for no-change live timeouts and `offset=now`.
 * - `electric-schema` only on non-live responses; `electric-cursor` only on live ones.
 * - Etag `"{handle}:{requested offset}:{response offset}"`, with a 4th, strictly increasing component on
 *   no-change responses; a matching `If-None-Match` gets 304 with the same headers and no body.
 * - A held request ends with the first of: data, timeout, deletion (409 without a handle), client abort.
 * - An offset past the log's end waits up to half the long-poll timeout for the log to get there, then 400.
 * - A `where` or `params` over the handler's text limits is refused (400 `errors.where` / `errors.params`) before
 *   anything else is done for it: no parsing, no catalog query (where/whereLimits.ts).
 * - A non-live body is encoded as the reader takes it (jsonArrayBody.ts), so a reader that never reads holds one
 *   piece, not a copy of the chunk.
 * - A request holds its shape (shapeRegistry.ts eviction) from the moment it is found until its response is built,
 *   or, for SSE, until the stream ends, so a shape being served is never evicted.
 */
import { BEFORE_ALL, NOW } from '../core/offset'
import { HEADER } from '../core/protocol'
import { nextCursor } from './cursor'
import { findShape } from './findShape'
import { jsonArrayBody } from './jsonArrayBody'
import type { HandlerContext } from './handlerContext'
import { parseShapeQuery } from './requestParams'
import type { ShapeQuery, ValidationErrors } from './requestParams'
import { CACHE_CONTROL, badRequest, corsHeaders, mustRefetch, offsetTx, upToDateMessage, withServer } from './responses'
import { schemaHeader } from './shapeDefinition'
import type { ShapeLog } from './shapeLog'
import { serveSse } from './sseStream'
import { subsetFieldsOfSearch } from './subsetParams'
import { waitForLog } from './waitForLog'
import { WhereClauseError } from './where/whereClauseError'
import { checkWhereText } from './where/whereLimits'

/** Serves a `GET` (or `HEAD`) of `/v1/shape`; `search` is the request URL's query, parsed once by the handler. */
export async function serveShape(request: Request, search: URLSearchParams, context: HandlerContext): Promise<Response> {
  const parsed = parseShapeQuery(search)
  if (!parsed.ok) return badRequest(request, parsed.errors)
  const query = parsed.value
  const refusal = whereTextRefusal(query, context)
  if (refusal !== undefined) return badRequest(request, refusal)
  const subset = subsetFieldsOfSearch(search)
  // Loaded on the first subset request, with the SQL compilers it needs: shapes alone never load them.
  if (subset !== undefined) return (await import('./subsetSnapshot')).serveSubset(request, context, query, subset)
  const found = await findShape(request, context, query)
  if (found instanceof Response) return found
  const { log, release } = found
  if (query.liveSse && query.offset !== BEFORE_ALL && query.offset !== NOW) return serveSse(request, context, log, query, release)
  try {
    return await serveFound(request, context, log, query)
  } finally {
    release()
  }
}

/** The handler's text limits applied to the shape's `where` and `params`; undefined when they pass. */
function whereTextRefusal(query: ShapeQuery, context: HandlerContext): ValidationErrors | undefined {
  if (query.where === undefined) return undefined
  try {
    checkWhereText({ where: query.where, params: query.params }, context.options.whereLimits)
    return undefined
  } catch (error) {
    if (error instanceof WhereClauseError) return { [error.field]: [...error.messages] }
    throw error
  }
}

async function serveFound(request: Request, context: HandlerContext, log: ShapeLog, query: ShapeQuery): Promise<Response> {
  if (query.offset === BEFORE_ALL) return respond(request, context, log, query, { messages: [...log.firstChunk()], endOffset: '0_0' })
  if (query.offset === NOW) {
    const endOffset = log.endOffset()
    return respond(request, context, log, query, { messages: [], endOffset, upToDateLsn: globalLsn(context, log), noChange: true })
  }
  return serveLog(request, context, log, query)
}

async function serveLog(request: Request, context: HandlerContext, log: ShapeLog, query: ShapeQuery): Promise<Response> {
  const { options } = context
  const offset = query.offset
  if (log.read(offset, options.chunkBytes).kind === 'out-of-bounds') {
    const outcome = await waitForLog(log, {
      until: () => log.read(offset, options.chunkBytes).kind !== 'out-of-bounds',
      timeoutMs: options.longPollTimeoutMs / 2,
      clock: options.clock,
      signal: request.signal,
    })
    if (outcome === 'deleted') return mustRefetch(request, undefined)
    if (outcome !== 'ready') return badRequest(request, { offset: ['out of bounds for this shape'] })
  }
  let read = log.read(offset, options.chunkBytes)
  if (read.kind === 'empty' && query.live) {
    const outcome = await waitForLog(log, {
      until: () => log.read(offset, options.chunkBytes).kind === 'data',
      timeoutMs: options.longPollTimeoutMs,
      clock: options.clock,
      signal: request.signal,
    })
    if (outcome === 'deleted') return mustRefetch(request, undefined)
    if (outcome !== 'ready') {
      return respond(request, context, log, query, {
        messages: [],
        endOffset: log.endOffset(),
        upToDateLsn: globalLsn(context, log),
        noChange: true,
      })
    }
    read = log.read(offset, options.chunkBytes)
  }
  if (read.kind === 'out-of-bounds') return badRequest(request, { offset: ['out of bounds for this shape'] })
  if (read.kind === 'empty') {
    return respond(request, context, log, query, {
      messages: [],
      endOffset: read.endOffset,
      upToDateLsn: maxBigInt(context.options.source.currentLsn(), offsetTx(read.endOffset)),
    })
  }
  const chunkTx = offsetTx(read.endOffset)
  return respond(request, context, log, query, {
    messages: read.messages,
    endOffset: read.endOffset,
    ...(read.reachedEnd
      ? { upToDateLsn: query.live ? chunkTx : maxBigInt(context.options.source.currentLsn(), chunkTx) }
      : {}),
  })
}

interface Body {
  messages: readonly string[]
  endOffset: string
  /** Present iff the response is up to date. */
  upToDateLsn?: bigint
  /** A no-change answer: `electric-has-data: false` and a unique etag. */
  noChange?: boolean
}

function respond(request: Request, context: HandlerContext, log: ShapeLog, query: ShapeQuery, body: Body): Response {
  const headers: Record<string, string> = {
    ...corsHeaders(request),
    'content-type': 'application/json; charset=utf-8',
    [HEADER.handle]: log.handle,
    [HEADER.offset]: body.endOffset,
    [HEADER.hasData]: body.noChange ? 'false' : 'true',
    'cache-control':
      query.offset === BEFORE_ALL ? CACHE_CONTROL.snapshot : query.live ? CACHE_CONTROL.livePoll : CACHE_CONTROL.nonLive,
  }
  if (query.live) {
    headers[HEADER.cursor] = nextCursor({
      nowMs: context.options.clock.now(),
      longPollTimeoutMs: context.options.longPollTimeoutMs,
      requestCursor: query.cursor,
      random: context.options.random,
    })
  } else {
    headers[HEADER.schema] = schemaHeader(log.definition)
  }
  const messages = [...body.messages]
  if (body.upToDateLsn !== undefined) {
    headers[HEADER.upToDate] = ''
    messages.push(upToDateMessage(body.upToDateLsn))
  }
  const etag = `${log.handle}:${query.offset}:${body.endOffset}${body.noChange ? `:${context.nextStamp()}` : ''}`
  headers.etag = `"${etag}"`
  if (matchesEtag(request, etag)) {
    delete headers['content-type']
    return withServer(new Response(null, { status: 304, headers }))
  }
  return withServer(new Response(jsonArrayBody(messages), { status: 200, headers }))
}

function matchesEtag(request: Request, etag: string): boolean {
  const header = request.headers.get('if-none-match')
  if (!header) return false
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '').replace(/^"|"$/g, '') === etag)
}

/** The source's processed LSN, or the shape's last tx when the source reports none. */
export function globalLsn(context: HandlerContext, log: ShapeLog): bigint {
  const lsn = context.options.source.currentLsn()
  return lsn > 0n ? lsn : log.lastLsn()
}

function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}
