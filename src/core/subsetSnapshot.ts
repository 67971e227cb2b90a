/**
 * Subset snapshots from the client (protocol §1.3, §3.6): one request for a page of a shape's rows (`where`,
 * `params`, `limit`, `offset`, `orderBy`), read by the server at one database snapshot, with the metadata that lets
 * a `log: 'changes_only'` shape merge it with its live changes (snapshotSink.ts, snapshotTracker.ts).
 *
 * Invariants:
 * - The request is the shape's own request (url, params, headers resolved as for the stream, `log`) plus the
 *   `subset__*` params, at the given handle and offset (`-1` without a handle: the server resolves the shape by its
 *   definition), never live. A subset is validated before any request: bad input is an `InvalidOptionsError`.
 * - The response is classified as every response is (responseMeta.ts: 400 → `ShapeRequestError`, other
 *   non-2xx → `FetchError`, missing headers → `MissingHeadersError`); a 409 is a `FetchError` with status 409 (the
 *   shape was rotated: sync again, then ask again). A body that is not `{metadata, data}` is a
 *   `MalformedResponseError`; nothing is applied anywhere on any failure.
 * - Rows are parsed with the shape's own parser options and the response's `electric-schema`.
 */
import type { ColumnMapper } from './columnMapper'
import { FetchError, InvalidOptionsError, MalformedResponseError, NetworkError } from './errors'
import type { FetchLike } from './fetchLike'
import { isPlainObject } from './isPlainObject'
import { createMessageParser, parseSchemaHeader } from './parse'
import type { ChangeMessage, Message, WireRow } from './protocol'
import { isChangeMessage } from './protocol'
import { buildRequestUrl, resolveRequestInputs } from './requestUrl'
import { readResponseMeta } from './responseMeta'
import type { ShapeOptions } from './shapeOptions'
import type { SnapshotMetadata } from './snapshotTracker'

/**
 * Which rows of the shape to load: those also matching `where` (with `$n` `params`), in `orderBy` order, after
 * skipping `offset`, at most `limit`. `orderBy` is required with `limit` or `offset`. Column names are the database's.
 * @example
 * const page: SubsetSnapshotRequest = { where: 'priority > $1', params: ['2'], orderBy: 'id DESC', limit: 20 }
 */
export interface SubsetSnapshotRequest {
  where?: string | undefined
  params?: readonly string[] | Readonly<Record<string, string>>
  limit?: number | undefined
  offset?: number | undefined
  orderBy?: string | undefined
}

/**
 * A loaded page: its rows (parsed as the shape parses rows) and the server's snapshot metadata.
 * @example
 * const { data, metadata } = await client.fetchSnapshot(todos, { orderBy: 'id', limit: 10 })
 */
export interface SubsetSnapshot<T> {
  readonly data: readonly T[]
  readonly metadata: SnapshotMetadata
}

/** A fetched subset with the change messages its rows came as (keys included), for loading into a shape. */
export interface FetchedSubset<T> extends SubsetSnapshot<T> {
  readonly messages: readonly ChangeMessage<T>[]
}

/** Throws `InvalidOptionsError` unless `subset` is a valid subset request. */
export function validateSubset(subset: SubsetSnapshotRequest): void {
  if (!isPlainObject(subset as unknown)) throw new InvalidOptionsError('A subset snapshot request must be an object')
  const { where, params, limit, offset, orderBy } = subset
  if (where !== undefined && (typeof where !== 'string' || where.trim() === '')) {
    throw new InvalidOptionsError('subset where must be a non-empty string')
  }
  if (params !== undefined && !(Array.isArray(params) ? params.every((v) => typeof v === 'string') : isPlainObject(params) && Object.values(params).every((v) => typeof v === 'string'))) {
    throw new InvalidOptionsError('subset params must be an array or record of strings')
  }
  const checkCount = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new InvalidOptionsError(`subset ${name} must be an integer >= ${min}, got ${String(value)}`)
    }
  }
  checkCount('limit', limit, 1)
  checkCount('offset', offset, 0)
  if (orderBy !== undefined && (typeof orderBy !== 'string' || orderBy.trim() === '')) {
    throw new InvalidOptionsError('subset orderBy must be a non-empty string')
  }
  if ((limit !== undefined || offset !== undefined) && orderBy === undefined) {
    throw new InvalidOptionsError('subset orderBy is required with limit or offset')
  }
}

function subsetParams(subset: SubsetSnapshotRequest): Record<string, string> {
  const out: Record<string, string> = {}
  if (subset.where !== undefined) out['subset__where'] = subset.where
  if (subset.params !== undefined) {
    const record = Array.isArray(subset.params)
      ? Object.fromEntries((subset.params as readonly string[]).map((value, index) => [String(index + 1), value]))
      : subset.params
    out['subset__params'] = JSON.stringify(record)
  }
  if (subset.limit !== undefined) out['subset__limit'] = String(subset.limit)
  if (subset.offset !== undefined) out['subset__offset'] = String(subset.offset)
  if (subset.orderBy !== undefined) out['subset__order_by'] = subset.orderBy
  return out
}

function isMetadata(value: unknown): value is SnapshotMetadata {
  if (!isPlainObject(value)) return false
  const decimal = (field: unknown): boolean => typeof field === 'string' && /^\d+$/.test(field)
  return (
    decimal(value['xmin']) &&
    decimal(value['xmax']) &&
    decimal(value['database_lsn']) &&
    Array.isArray(value['xip_list']) &&
    (value['xip_list'] as unknown[]).every(decimal) &&
    typeof value['snapshot_mark'] === 'number'
  )
}

/**
 * Fetches one subset of the shape `options` describes, at `position`.
 * @example
 * const page = await fetchSubset({ fetch, options, subset: { orderBy: 'id', limit: 10 }, position: { handle, offset } })
 */
export async function fetchSubset<T>(input: {
  fetch: FetchLike
  options: ShapeOptions<T>
  subset: SubsetSnapshotRequest
  position: { handle: string | undefined; offset: string }
  signal?: AbortSignal | undefined
}): Promise<FetchedSubset<T>> {
  const { options, subset, position } = input
  validateSubset(subset)
  const { headers, params } = await resolveRequestInputs(options.headers, options.params)
  const columnMapper: ColumnMapper | undefined = options.columnMapper
  const url = buildRequestUrl({
    url: options.url,
    params,
    log: options.log ?? 'full',
    position: { offset: position.offset, handle: position.handle, live: false, cursor: undefined, cacheBuster: undefined, expiredHandle: undefined },
    encodeColumn: columnMapper ? (name) => columnMapper.encode(name) : undefined,
    extraParams: subsetParams(subset),
  })
  let response: Response
  try {
    response = await input.fetch(url, { headers, ...(input.signal ? { signal: input.signal } : {}) })
  } catch (cause) {
    if (input.signal?.aborted) throw input.signal.reason
    throw new NetworkError(url, cause)
  }
  const meta = await readResponseMeta(response, url, { live: false })
  if (meta.kind === 'must-refetch') {
    throw new FetchError({ status: 409, url, body: '', headers: response.headers, message: `The shape at ${url} was rotated (409): sync it again, then ask again` })
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (cause) {
    throw new MalformedResponseError(url, 'a subset snapshot body is not JSON', { cause })
  }
  if (!isPlainObject(body) || !isMetadata(body['metadata']) || !Array.isArray(body['data'])) {
    throw new MalformedResponseError(url, 'a subset snapshot body must be {"metadata": {...}, "data": [...]}')
  }
  const parser = createMessageParser<T>(parseSchemaHeader(meta.schema ?? '{}'), {
    ...(options.parser ? { parser: options.parser } : {}),
    ...(options.columnMapper ? { columnMapper: options.columnMapper } : {}),
    ...(options.transformer ? { transformer: options.transformer } : {}),
    ...(options.lazyJson ? { lazyJson: options.lazyJson } : {}),
  })
  const wire = body['data'] as Message<WireRow>[]
  if (!wire.every((message) => isPlainObject(message) && isChangeMessage(message) && typeof message.key === 'string')) {
    throw new MalformedResponseError(url, 'subset snapshot data must be change messages')
  }
  const messages = parser.parseMessages(wire).filter(isChangeMessage)
  return { metadata: body['metadata'], messages, data: messages.map((message) => message.value) }
}
