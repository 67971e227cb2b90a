/**
 * One live SSE request: `fetch` → response meta → events → batches of wire messages, each closed by `up-to-date`.
 *
 * Invariants:
 * - The request carries `Accept: text/event-stream`; the caller builds the URL (`live=true&live_sse=true&
 *   experimental_live_sse=true`, `offset`, `handle`, `cursor`) and passes the same `offset` as `request.offset`.
 * - Status and headers go through `readResponseMeta(…, { live: true })`: a 409 ends the request with
 *   `reason: 'must-refetch'` whatever its body (the current one-element array or the older single object: the body is
 *   not read); a 400 or other non-2xx throws its typed error; a 2xx without `electric-offset`, `electric-handle` or
 *   `electric-cursor` throws `MissingHeadersError`. `onMeta` sees the headers before any batch.
 * - Messages are held back until an `up-to-date` message arrives, then delivered once, together, with that
 *   `up-to-date` last, through `onBatch`. Messages not yet closed by an `up-to-date` when the stream ends, fails or
 *   is aborted are dropped, never delivered; since the resume offset did not move past them, the next request
 *   receives them again.
 * - An event whose data is not JSON, or not a message object, throws `MalformedResponseError` (retryable: the
 *   store never saw the held-back messages, as errors.ts requires). A `must-refetch` inside the stream (sent by
 *   experimental servers,
 *   as an object or wrapped in an array) ends the request like a 409, dropping held-back messages.
 * - Resume offset. `lastOffset` starts as the request's offset; a delivered batch moves it to the offset of its
 *   last change, `${headers.lsn}_${headers.op_position}` (`changeOffset`); a batch with no positioned change leaves it
 *   where it was. Why this and not the `up-to-date`'s `global_last_seen_lsn`:
 *   - the server answers a request at offset O with the log entries strictly after O, so the last change's own offset
 *     is exactly "everything delivered, nothing more": the next request neither re-sends nor skips a change, even
 *     when a transaction touched several rows (op positions 0, 2, 4… or with gaps) or the stream broke between
 *     transactions. It is what `electric-offset` would have said for the same batch in long-poll mode;
 *   - `${global_last_seen_lsn}_0` (the reference client) lies before every op of that transaction but the one at
 *     position 0, so a reconnect re-sends the rest, returns at once, and counts as a short connection (see
 *     `sseFallback.ts`); its changes are re-applied;
 *   - `${global_last_seen_lsn}_inf` lies after the shape log's last entry (`LSN_k`, k finite), which the server
 *     treats as out of bounds: it holds the request 10 s, then a long-poll gets a 400 and an SSE stream just ends;
 *   - a batch with no change (a lone `up-to-date`) did not move us in the shape log: in SSE mode its LSN is the tx part
 *     of the chunk end, i.e. of a change we already have or of our own request offset, so the previous offset is still
 *     exactly our position and the server has already accepted it.
 *   The response's `electric-offset` header is not used: in SSE mode it describes the log at request start, which can
 *   lie beyond catch-up events the stream has not delivered yet.
 * - The request ends with `{ reason, durationMs, lastOffset }`: `closed` when the server ended the stream, `aborted`
 *   when `signal` aborted (at any point: before the fetch, while waiting for headers or for the body). On abort the
 *   body is cancelled at once, no callback runs afterwards, and nothing is left behind: no timer (none is ever set),
 *   no abort listener, no reader lock; a response that arrives after the abort has its body cancelled on arrival.
 * - `durationMs` runs from just before `fetch` to the end, on the injected clock, as the fallback policy needs.
 *   `fetch` rejecting, or the body failing mid-stream, without an abort throws `NetworkError` (retryable).
 * - `onActivity`, when given, is called when the response's headers arrive and for every body chunk, keep-alive
 *   comments included (sseParser.ts, `onChunk`): the caller's heartbeat. It never runs after an abort.
 * - No timers, no globals beyond `fetch`'s own types: runs in Node, browsers, workers and jsdom alike.
 */
import { MalformedResponseError, NetworkError } from './errors'
import type { FetchLike } from './fetchLike'
import { changeOffset, parseLogOffset, type OffsetString } from './offset'
import { isChangeMessage, isUpToDate, type Message, type WireRow } from './protocol'
import { readResponseMeta, type ResponseMeta } from './responseMeta'
import { readSseData } from './sseParser'
import { isPlainObject } from './isPlainObject'

/** Everything one SSE request needs; see the invariants at the top of this file. */
export interface SseRequest {
  fetch: FetchLike
  /** Full live SSE URL, built by the caller. */
  url: string
  /** The `offset` the URL asks from; `lastOffset` when no batch arrives. */
  offset: OffsetString
  /** Extra request headers (auth…); `accept` is always `text/event-stream`. */
  headers?: Readonly<Record<string, string>>
  signal: AbortSignal
  /** Source of `durationMs`; a `Clock` fits. */
  clock: { now(): number }
  /** The response headers, once, before any batch. */
  onMeta?: (meta: ResponseMeta) => void
  /** One complete batch ending with `up-to-date`, and the offset to resume after it. */
  onBatch: (batch: SseBatch) => void
  /** Headers or any bytes (events, keep-alives) arrived: the caller's heartbeat. */
  onActivity?: () => void
}

/** Messages up to and including an `up-to-date`, as they came off the wire (values unparsed). */
export interface SseBatch {
  readonly messages: readonly Message<WireRow>[]
  /** Where the next request resumes once this batch is applied. */
  readonly offset: OffsetString
}

/** How an SSE request ended without an error. */
export type SseEnd =
  | { readonly reason: 'closed' | 'aborted'; readonly durationMs: number; readonly lastOffset: OffsetString }
  | {
      readonly reason: 'must-refetch'
      readonly durationMs: number
      readonly lastOffset: OffsetString
      /** The handle to use next, when the 409 carried one. */
      readonly handle: string | undefined
      /** The 409's `retry-after`, when it had one. */
      readonly retryAfter?: string | undefined
    }

const ACCEPT = 'text/event-stream'
const ignore = (): void => undefined
const MUST_REFETCH = Symbol('must-refetch')

/**
 * Runs one live SSE request to its end. Resolves when the server closes the stream, the signal aborts or
 * the server asks for a refetch; throws a typed error otherwise (`ShapeRequestError`, `FetchError`,
 * `MissingHeadersError`, `MalformedResponseError`, `NetworkError`) or whatever `onMeta`/`onBatch` threw.
 * @example
 * const end = await runSseRequest({ fetch, url, offset, signal, clock: realClock,
 *   onMeta: (meta) => (cursor = meta.cursor), onBatch: ({ messages, offset }) => apply(messages, offset) })
 * if (end.reason === 'must-refetch') restartFrom(end.handle)
 */
export async function runSseRequest(request: SseRequest): Promise<SseEnd> {
  const { url, signal, clock } = request
  const startedAt = clock.now()
  let lastOffset = request.offset
  const end = (reason: 'closed' | 'aborted'): SseEnd => ({ reason, durationMs: clock.now() - startedAt, lastOffset })
  const mustRefetch = (handle: string | undefined, retryAfter?: string): SseEnd => ({
    reason: 'must-refetch',
    durationMs: clock.now() - startedAt,
    lastOffset,
    handle,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  })
  if (signal.aborted) return end('aborted')

  const headers = new Headers(request.headers)
  headers.set('accept', ACCEPT)
  const responsePromise = request.fetch(url, { method: 'GET', headers, signal })
  let response: Response
  try {
    const fetched = await untilAborted(responsePromise, signal)
    if (fetched === undefined) {
      responsePromise.then(cancelBody, ignore)
      return end('aborted')
    }
    response = fetched.value
    request.onActivity?.()
  } catch (cause) {
    if (signal.aborted) return end('aborted')
    throw new NetworkError(url, cause)
  }

  let meta: Awaited<ReturnType<typeof readResponseMeta>>
  try {
    const read = await untilAborted(readResponseMeta(response, url, { live: true }), signal)
    if (read === undefined) {
      cancelBody(response)
      return end('aborted')
    }
    meta = read.value
  } catch (error) {
    if (signal.aborted) return end('aborted')
    throw error
  }
  if (meta.kind === 'must-refetch') return mustRefetch(meta.handle, meta.retryAfter)
  if (signal.aborted) {
    cancelBody(response)
    return end('aborted')
  }
  request.onMeta?.(meta)
  if (response.body === null) return end(signal.aborted ? 'aborted' : 'closed')

  const onActivity = request.onActivity
  const onChunk = (): void => {
    if (!signal.aborted) onActivity?.()
  }
  const events = readSseData(response.body, onActivity ? { signal, onChunk } : { signal })
  let held: Message<WireRow>[] = []
  try {
    for (;;) {
      let next: IteratorResult<string, void>
      try {
        next = await events.next()
      } catch (cause) {
        if (signal.aborted) return end('aborted')
        throw new NetworkError(url, cause)
      }
      if (next.done) break
      const message = parseEvent(next.value, url)
      if (message === MUST_REFETCH) return mustRefetch(undefined)
      held.push(message)
      if (!isUpToDate(message)) continue
      const messages = held
      held = []
      lastOffset = resumeOffset(messages, lastOffset)
      request.onBatch({ messages, offset: lastOffset })
    }
  } finally {
    await events.return()
  }
  return end(signal.aborted ? 'aborted' : 'closed')
}

/** The offset after a batch: its last positioned change, else where we were. */
function resumeOffset(messages: readonly Message<WireRow>[], previous: OffsetString): OffsetString {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message<WireRow>
    if (!isChangeMessage(message)) continue
    const { lsn, op_position: op } = message.headers
    if (typeof lsn !== 'string' || typeof op !== 'number') continue
    const offset = changeOffset(lsn, op)
    if (parseLogOffset(offset) !== undefined) return offset
  }
  return previous
}

/** One event's data → a message. */
function parseEvent(data: string, url: string): Message<WireRow> | typeof MUST_REFETCH {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch (cause) {
    throw new MalformedResponseError(url, `SSE event data is not JSON: ${data.slice(0, 200)}`, { cause })
  }
  if (Array.isArray(value) && value.some(isMustRefetch)) return MUST_REFETCH
  if (!isMessageObject(value)) {
    throw new MalformedResponseError(url, `SSE event data is not a shape message: ${data.slice(0, 200)}`)
  }
  return isMustRefetch(value) ? MUST_REFETCH : (value as unknown as Message<WireRow>)
}

function isMessageObject(value: unknown): value is Record<string, unknown> & { headers: Record<string, unknown> } {
  if (!isPlainObject(value) || !isPlainObject(value.headers)) return false
  return !('key' in value) || (typeof value.key === 'string' && isPlainObject(value.value))
}

function isMustRefetch(value: unknown): boolean {
  return isPlainObject(value) && isPlainObject(value.headers) && value.headers.control === 'must-refetch'
}

function cancelBody(response: Response): void {
  if (response.body !== null && !response.bodyUsed && !response.body.locked) response.body.cancel().catch(ignore)
}

/**
 * Settles with `{ value }` when `promise` fulfils, `undefined` as soon as `signal` aborts (even if `promise` never
 * settles), and rejects when `promise` rejects first. The abort listener is removed on every path.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<{ value: T } | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve({ value })
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
