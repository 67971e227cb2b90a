/**
 * Reading a shape response's status and headers, shared by the long-poll and SSE transports.
 *
 * Invariants:
 * - A 2xx response must carry `electric-offset` and `electric-handle`; a live one `electric-cursor`; a non-live
 *   one `electric-schema` (the client's `MissingHeadersError` rule). 204 is an old server's "up to date".
 * - 409 is not an error: it yields `{ kind: 'must-refetch' }` with the next handle when the server sent one.
 * - Any other non-2xx becomes a typed error (400 → `ShapeRequestError`, else `FetchError`); the body is read
 *   once, here, so the caller never touches it.
 */
import { FetchError, MissingHeadersError, ShapeRequestError } from './errors'
import { HEADER } from './protocol'

export interface ResponseMeta {
  kind: 'ok'
  status: number
  handle: string
  offset: string
  cursor: string | undefined
  /** Raw `electric-schema` header; only on non-live responses. */
  schema: string | undefined
  upToDate: boolean
  /** `false` for a live timeout with no change (and `offset=now`). */
  hasData: boolean
}

export interface MustRefetch {
  kind: 'must-refetch'
  /** The handle to use next; absent when the server only signalled a rotation. */
  handle: string | undefined
  /** The 409's `retry-after` header, when it had one: it paces a repeated refetch. */
  retryAfter?: string | undefined
}

/**
 * Classifies a response. For 2xx it returns the headers (the body is left unread); for 409 the must-refetch signal;
 * otherwise it throws a typed error after reading the body.
 */
export async function readResponseMeta(
  response: Response,
  url: string,
  request: { live: boolean },
): Promise<ResponseMeta | MustRefetch> {
  const headers = response.headers
  if (response.status === 409) {
    await response.body?.cancel().catch(() => undefined)
    const retryAfter = headers.get(HEADER.retryAfter)
    return { kind: 'must-refetch', handle: headers.get(HEADER.handle) ?? undefined, ...(retryAfter === null ? {} : { retryAfter }) }
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '')
    if (response.status === 400) throw new ShapeRequestError({ url, body, headers })
    throw new FetchError({ status: response.status, url, body, headers })
  }
  const handle = headers.get(HEADER.handle)
  const offset = headers.get(HEADER.offset)
  const cursor = headers.get(HEADER.cursor) ?? undefined
  const schema = headers.get(HEADER.schema) ?? undefined
  const missing: string[] = []
  if (handle === null) missing.push(HEADER.handle)
  if (offset === null) missing.push(HEADER.offset)
  if (request.live && cursor === undefined) missing.push(HEADER.cursor)
  if (!request.live && schema === undefined && response.status !== 204) missing.push(HEADER.schema)
  if (handle === null || offset === null || missing.length > 0) {
    await response.body?.cancel().catch(() => undefined)
    throw new MissingHeadersError(url, missing)
  }
  return {
    kind: 'ok',
    status: response.status,
    handle,
    offset,
    cursor,
    schema,
    upToDate: response.status === 204 || headers.has(HEADER.upToDate),
    hasData: headers.get(HEADER.hasData) !== 'false',
  }
}
