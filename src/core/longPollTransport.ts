/**
 * One long-poll (or non-live) HTTP request: response meta plus the raw message array.
 *
 * Invariants:
 * - The body is parsed only after the headers passed `readResponseMeta`; a body that is not JSON or not an array
 *   of message objects is a `MalformedResponseError` (retryable) and nothing of it is returned (errors.ts).
 * - 204 means no messages; 304 means "nothing new at the same position"; a 200 with an empty body is malformed (a
 *   proxy cut it: see messageArray.ts).
 * - `fetch` rejecting is a `NetworkError`, unless our signal aborted it: then the abort reason is rethrown
 *   untouched so callers can tell a cancel from a failure. The same holds for reading the body.
 * - The body is read as a stream (`messageArray.ts`); a Response without a readable body is read whole.
 * - `stage`, when given, is asked once the headers of a 2xx with a body passed; the consumer it returns is
 *   offered the body's leading messages as they are parsed, and the result holds only the rest.
 * - `onProgress`, when given, is called when the response's headers arrive and after every body chunk, so a
 *   caller's idle deadline (liveDeadline.ts, `withIdleDeadline`) bounds silence, not the size of a healthy response.
 * - A 2xx or 304 whose `electric-handle` is one of `retiredHandles` (handles a 409 retired, replayed by a cache)
 *   is `{ kind: 'stale' }`: its body is cancelled unread and nothing of it is staged or returned.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { Message, WireRow } from './protocol'
import type { MustRefetch, ResponseMeta } from './responseMeta'
import { abortReason } from './clock'
import { NetworkError } from './errors'
import { withIdleDeadline, withLiveDeadline } from './liveDeadline'
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
  /** Takes leading messages of a 2xx body while it is read; returns the consumer, or undefined for none. */
  stage?: (meta: ResponseMeta) => ((messages: Message<WireRow>[]) => boolean) | undefined
  /** Signs of life: headers arrived, a body chunk arrived. */
  onProgress?: (() => void) | undefined
  /** A response of one of these handles is refused as stale, unread. */
  retiredHandles?: readonly string[] | undefined
  /** Lets the event loop run between pieces of a large body (messageArray.ts, reading yields). */
  yielder?: Yielder | undefined
}

/** A 2xx response and its messages (those a `stage` consumer took are not in `messages`). */
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

/** A response of the expired handle: never applied. */
export interface StaleResponse {
  kind: 'stale'
  handle: string
}

/** What one long-poll request yields. */
export type LongPollResult = LongPollMessages | NotModified | MustRefetch | StaleResponse

/**
 * Performs one request (the invariants at the top of this file).
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
  request.onProgress?.()
  if (response.status === 304) {
    await response.body?.cancel().catch(() => undefined)
    const handle = response.headers.get(HEADER.handle) ?? undefined
    if (handle !== undefined && request.retiredHandles?.includes(handle) === true) return { kind: 'stale', handle }
    return {
      kind: 'not-modified',
      cursor: response.headers.get(HEADER.cursor) ?? undefined,
      handle: response.headers.get(HEADER.handle) ?? undefined,
    }
  }
  const meta = await readResponseMeta(response, url, { live: request.live })
  if (meta.kind === 'must-refetch') return meta
  if (request.retiredHandles?.includes(meta.handle) === true) {
    await response.body?.cancel().catch(() => undefined)
    return { kind: 'stale', handle: meta.handle }
  }
  if (response.status === 204) return { kind: 'ok', meta, messages: [] }
  const body = withProgress(response.body, request.onProgress, signal)
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

/** The deadlines of one request (liveDeadline.ts); 0 disables one. */
export interface LongPollDeadlines {
  clock: Clock
  /** A live request unanswered for this long fails. */
  liveTimeoutMs: number
  /** A non-live request without headers or body bytes for this long fails. */
  idleTimeoutMs: number
}

/**
 * `longPollRequest` under its deadline: a live one bounded in all, a non-live one bounded by silence.
 * @example
 * await longPollWithDeadline({ url, headers, live: false, signal, fetch }, { clock, liveTimeoutMs: 45_000, idleTimeoutMs: 45_000 })
 */
export function longPollWithDeadline(request: LongPollRequest, deadlines: LongPollDeadlines): Promise<LongPollResult> {
  const { url, signal, live } = request
  const { clock } = deadlines
  const timeoutMs = live ? deadlines.liveTimeoutMs : deadlines.idleTimeoutMs
  if (timeoutMs <= 0) return longPollRequest(request)
  if (live) return withLiveDeadline(clock, timeoutMs, url, signal, (deadline) => longPollRequest({ ...request, signal: deadline }))
  return withIdleDeadline(clock, timeoutMs, url, signal, 'response headers or body bytes', (deadline, onProgress) =>
    longPollRequest({ ...request, signal: deadline, onProgress }),
  )
}

/**
 * The body, reporting each chunk to `onProgress` as the reader takes it; unchanged without one. Pull-based
 * (no read-ahead): a chunk is read from the network only when the parser asks, as without the wrapper. An abort of
 * `signal` fails the pending read and cancels the body at once, even with a `fetch` that does not tie its body to the
 * signal (a deadline must end the read it bounds); the listener goes when the body ends, fails or is cancelled.
 */
function withProgress(
  body: ReadableStream<Uint8Array> | null,
  onProgress: (() => void) | undefined,
  signal: AbortSignal,
): ReadableStream<Uint8Array> | null {
  if (body === null || onProgress === undefined || typeof body.getReader !== 'function') return body
  const reader = body.getReader()
  let onAbort: (() => void) | undefined
  const release = (): void => {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    onAbort = undefined
  }
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          release()
          controller.error(abortReason(signal))
          reader.cancel(abortReason(signal)).catch(() => undefined)
        }
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      },
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>
        try {
          chunk = await reader.read()
        } catch (error) {
          release()
          throw error
        }
        if (signal.aborted) return
        if (chunk.done) {
          release()
          controller.close()
          return
        }
        onProgress()
        controller.enqueue(chunk.value)
      },
      cancel: (reason) => {
        release()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}
