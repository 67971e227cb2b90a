/**
 * Subset snapshots (protocol §1.3, §3.6): `GET /v1/shape?…&subset__*=…` and `POST /v1/shape?…` with a JSON body
 * answer a page of a shape's rows, read at one consistent snapshot, with what the client needs to merge it with
 * the shape's live changes (`@electric-sql/client`'s `requestSnapshot`).
 *
 * Invariants:
 * - The shape is named and resolved as by a GET (findShape.ts, same 400/409/503); the subset's own params
 *   are then cast (subsetParams.ts) and compiled against it (subsetQuery.ts). Every subset refusal is
 *   `400 {"message":"Invalid request","errors":{"subset":{<field>:[…]}}}`.
 * - The rows are those of the shape that match the subset, in `order_by` order, offset then limited, from one
 *   `source.snapshot`, as the shape's snapshot inserts (columns projected) carrying `snapshot_mark`.
 * - `metadata` is that snapshot's `xmin`, `xmax`, `xip_list` (decimal strings), `database_lsn` (its
 *   `databaseLsn`, decimal, above every visible change's `lsn`: source.ts) and `snapshot_mark`, a fresh integer in
 *   0..2^31-1 drawn from the handler's `random`.
 *   With the `txids` and `lsn` of later changes (changeMessages.ts) the client drops exactly the changes the
 *   snapshot already holds and retires it once the stream reaches `database_lsn`.
 * - `electric-offset` leaves the client's stream where it was: the requested offset (`-1` stays `-1`; `now` is
 *   the log end read before the snapshot is taken), so no change the snapshot misses is skipped. An offset past the
 *   log's end is refused at once (400 out of bounds). `electric-handle` is the shape's.
 * - Headers: `cache-control: no-cache`, `electric-snapshot: true`, `electric-schema`, CORS; no etag, cursor or
 *   up-to-date. `live`/`live_sse` are ignored: a snapshot is not live.
 * - A snapshot that fails on a row (SQLSTATE class 22, or the memory source's `DataException`:
 *   dataException.ts) is `400 errors.subset.where` with the database's message; any other failure is 503 with
 *   `retry-after`, never a 500. A snapshot refused because the shape's table changed (describeTable.ts) also
 *   deletes the shape, so the retry gets 409 and the client resyncs with the new columns.
 * - An answer is bounded before it is built: the source is asked for at most `maxSubsetRows + 1` rows (the subset's
 *   own `limit` when smaller), and a subset matching more rows than `maxSubsetRows`, or whose rows' JSON is longer
 *   than `maxSubsetBytes`, is `400 errors.subset.limit` saying to ask with a smaller `limit` (with `order_by`) and page
 *   with `offset`. The sources answer a snapshot as one array (source.ts), so a body cannot be streamed from the
 *   database: a subset without `limit` on a large table, many at once, or one whose client never reads, holds at
 *   most that bound each, never a copy of the table.
 * - The subset's `where` and `params` are held to the handler's size limits before they are parsed
 *   (whereClause.ts size limits); its snapshot runs through the handler's snapshot gate (snapshotGate.ts: a full
 *   queue is a 503 with `retry-after`) with the handler's statement timeout, and is cancelled when the request aborts
 *   (source.ts). The shape is held (shapeRegistry.ts eviction) until the answer is built.
 */
import { BEFORE_ALL, NOW } from '../core/offset'
import { HEADER } from '../core/protocol'
import { snapshotMessage } from './changeMessages'
import { findShape } from './findShape'
import type { HandlerContext } from './handlerContext'
import { parseShapeQuery } from './requestParams'
import type { ShapeQuery, ValidationErrors } from './requestParams'
import { badRequest, CACHE_CONTROL, corsHeaders, errorResponse, serverError, withServer } from './responses'
import { schemaHeader } from './shapeDefinition'
import { castSubsetParams, subsetFieldsOfBody } from './subsetParams'
import { compileSubsetQuery } from './subsetQuery'
import { isDataException } from './sources/dataException'
import { TableChangedError } from './sources/describeTable'
import type { SnapshotRequest, SnapshotResult } from './sources/source'
import type { ShapeLog } from './shapeLog'

/**
 * Answers `POST /v1/shape`: the query string names the shape, the JSON body is the subset.
 * @example
 * case 'POST': return serveSubsetPost(request, url.searchParams, context)
 */
export async function serveSubsetPost(request: Request, search: URLSearchParams, context: HandlerContext): Promise<Response> {
  const body = subsetFieldsOfBody(await request.text())
  if (!body.ok) return errorResponse(request, body.status, body.body)
  const parsed = parseShapeQuery(search)
  if (!parsed.ok) return badRequest(request, parsed.errors)
  return serveSubset(request, context, parsed.value, body.fields)
}

/**
 * Answers a subset request for the shape `query` names, with the raw subset `fields`.
 * @example
 * const fields = subsetFieldsOfSearch(search)
 * if (fields !== undefined) return serveSubset(request, context, query, fields)
 */
export async function serveSubset(
  request: Request,
  context: HandlerContext,
  query: ShapeQuery,
  fields: Readonly<Record<string, unknown>>,
): Promise<Response> {
  const found = await findShape(request, context, query)
  if (found instanceof Response) return found
  const { log, release } = found
  try {
    return await serveSubsetOf(request, context, query, fields, log)
  } finally {
    release()
  }
}

async function serveSubsetOf(
  request: Request,
  context: HandlerContext,
  query: ShapeQuery,
  fields: Readonly<Record<string, unknown>>,
  log: ShapeLog,
): Promise<Response> {
  const subset = castSubsetParams(fields)
  if (!subset.ok) return subsetRefusal(request, subset.errors)
  const compiled = await compileSubsetQuery(log.definition, subset.value, context.options.whereLimits)
  if (!compiled.ok) return subsetRefusal(request, compiled.errors)

  let offset = query.offset
  if (offset === NOW) offset = log.endOffset()
  else if (offset !== BEFORE_ALL && log.read(offset, context.options.chunkBytes).kind === 'out-of-bounds') {
    return badRequest(request, { offset: ['out of bounds for this shape'] })
  }
  const { maxSubsetRows: maxRows, maxSubsetBytes: maxBytes } = context.options
  let snapshot: SnapshotResult
  try {
    const snapshotRequest = { ...boundedRequest(compiled.value, maxRows), timeoutMs: context.options.snapshotTimeoutMs }
    // bounded by the snapshot gate, limited in time, and cancelled when the client leaves.
    snapshot = await context.gate.run(request.signal, (signal) =>
      context.options.source.snapshot(signal ? { ...snapshotRequest, signal } : snapshotRequest),
    )
  } catch (error) {
    // The same request would fail the same way, so only a data exception is the client's to fix.
    if (isDataException(error)) return subsetRefusal(request, { where: [error.message] })
    // The shape's columns are out of date (describeTable.ts): its clients get 409 on the retry and resync.
    if (error instanceof TableChangedError) context.registry.delete(log)
    // A client that left needs no answer and is no server failure; anything else is reported, never echoed.
    if (!request.signal.aborted) context.reportError(error, request)
    return serverError(request, 503, 'Could not take the subset snapshot', { 'retry-after': '1' })
  }
  if (snapshot.rows.length > maxRows) {
    return subsetRefusal(request, { limit: [tooLarge(`more than ${rowCount(maxRows)} match`, maxRows)] })
  }
  const mark = Math.floor(context.options.random() * 2 ** 31)
  const metadata = JSON.stringify({
    xmin: snapshot.xmin,
    xmax: snapshot.xmax,
    xip_list: snapshot.xipList,
    database_lsn: String(snapshot.databaseLsn),
    snapshot_mark: mark,
  })
  const data: string[] = []
  let bytes = 0
  for (const row of snapshot.rows) {
    const message = snapshotMessage(log.definition, row, mark)
    bytes += message.length + 1
    if (bytes > maxBytes) {
      return subsetRefusal(request, { limit: [tooLarge(`its rows are more than ${maxBytes} bytes of JSON`, data.length)] })
    }
    data.push(message)
  }
  const headers: Record<string, string> = {
    ...corsHeaders(request),
    'content-type': 'application/json; charset=utf-8',
    'cache-control': CACHE_CONTROL.noCache,
    [HEADER.snapshot]: 'true',
    [HEADER.handle]: log.handle,
    [HEADER.offset]: offset,
    [HEADER.schema]: schemaHeader(log.definition),
  }
  return withServer(new Response(`{"metadata":${metadata},"data":[${data.join(',')}]}`, { status: 200, headers }))
}

/** `request` asking the source for one row past `maxRows` at most, so a larger answer is seen without reading it. */
function boundedRequest(request: SnapshotRequest, maxRows: number): SnapshotRequest {
  if (!Number.isFinite(maxRows) || (request.limit !== undefined && request.limit <= maxRows)) return request
  return { ...request, limit: maxRows + 1 }
}

/** Why a subset is too large for one answer, and how to ask for it instead: pages of at most `pageRows` rows. */
function tooLarge(reason: string, pageRows: number): string {
  return (
    `The subset is too large for one snapshot: ${reason}, the most the server answers at once. ` +
    `Ask for at most ${rowCount(Math.max(1, pageRows))} with limit (and order_by) and page with offset`
  )
}

function rowCount(count: number): string {
  return count === 1 ? '1 row' : `${count} rows`
}

function subsetRefusal(request: Request, errors: ValidationErrors): Response {
  return errorResponse(request, 400, { message: 'Invalid request', errors: { subset: errors } })
}
