/**
 * One long-poll (or non-live) HTTP request: response meta plus the raw message array.
 *
 * Invariants:
 * - LP1. The body is parsed only after the headers passed `readResponseMeta`; a body that is not JSON or not an array
 *   of message objects is a `MalformedResponseError` (retryable) and nothing of it is returned (errors.ts E2).
 * - LP2. 204 and empty bodies mean no messages; 304 means "nothing new at the same position".
 * - LP3. `fetch` rejecting is a `NetworkError`, unless our signal aborted it: then the abort reason is rethrown
 *   untouched so callers can tell a cancel from a failure. The same holds for reading the body.
 * - LP4. The body is read as a stream (`messageArray.ts` MA2); a Response without a readable body is read whole.
 * - LP5. `stage`, when given, is asked once the headers of a 2xx with a body passed; the consumer it returns is
 *   offered the body's leading messages as they are parsed (MA4), and the result holds only the rest.
 */
import type { FetchLike } from './fetchLike'
import type { Message, WireRow } from './protocol'
import type { MustRefetch, ResponseMeta } from './responseMeta'
import { abortReason } from './clock'
import { NetworkError } from './errors'
import { parseMessageArray, readMessageArray } from './messageArray'
import { HEADER } from './protocol'
import { readResponseMeta } from './responseMeta'
import type { Yielder } from './yielder'

/** One request as the stream prepared it. */
export interface LongPollRequest {
  url: string
  headers: Record<string, string>
  live: boolean
  signal: AbortSignal
  fetch: FetchLike
  /** Takes leading messages of a 2xx body while it is read (LP5); returns the consumer, or undefined for none. */
  stage?: (meta: ResponseMeta) => ((messages: Message<WireRow>[]) => boolean) | undefined
  /** Lets the event loop run between pieces of a large body (messageArray.ts, reading yields). */
  yielder?: Yielder | undefined
}

/** A 2xx response and its messages (those a `stage` consumer took are not in `messages`, LP5). */
export interface LongPollMessages {
  kind: 'ok'
  meta: ResponseMeta
  messages: Message<WireRow>[]
}

/** A 304: the position did not move; `cursor`/`handle` when the server repeated them. */
export interface NotModified {
  kind: 'not-modified'
  cursor: string | undefined
  handle: string | undefined
}

/** What one long-poll request yields. */
export type LongPollResult = LongPollMessages | NotModified | MustRefetch

/**
 * Performs one request (LP1–LP3).
 * @example
 * const result = await longPollRequest({ url, headers: {}, live: false, signal, fetch })
 * if (result.kind === 'ok') store.applyBatch(parser.parseMessages(result.messages))
 */
export async function longPollRequest(request: LongPollRequest): Promise<LongPollResult> {
  const { url, signal } = request
  let response: Response
  try {
    response = await request.fetch(url, { headers: request.headers, signal })
  } catch (error) {
    if (signal.aborted) throw abortReason(signal)
    throw new NetworkError(url, error)
  }
  if (response.status === 304) {
    await response.body?.cancel().catch(() => undefined)
    return {
      kind: 'not-modified',
      cursor: response.headers.get(HEADER.cursor) ?? undefined,
      handle: response.headers.get(HEADER.handle) ?? undefined,
    }
  }
  const meta = await readResponseMeta(response, url, { live: request.live })
  if (meta.kind === 'must-refetch') return meta
  if (response.status === 204) return { kind: 'ok', meta, messages: [] }
  const body = response.body
  if (body === null || typeof body.getReader !== 'function') {
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      if (signal.aborted) throw abortReason(signal)
      throw new NetworkError(url, error)
    }
    return { kind: 'ok', meta, messages: parseMessageArray(text, url) }
  }
  return { kind: 'ok', meta, messages: await readMessageArray(body, url, signal, request.stage?.(meta), request.yielder) }
}
