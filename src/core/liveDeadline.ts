/**
 * Deadlines for requests: a connection the platform has not noticed is dead (or a proxy that holds a response) would
 * otherwise keep a stream `live` or `syncing` forever.
 *
 * Invariants:
 * - The request runs under its own signal, aborted when the deadline passes or when the caller's signal aborts.
 *   Once the deadline passed while the caller's signal did not abort, the request's outcome, failure or not, becomes
 *   a retryable `NetworkError` (an abandoned request never counts as an answer); any other failure goes through as it
 *   is.
 * - The timer is cleared when the request settles, and at once when the caller's signal aborts (stop and
 *   pause leave no timer behind synchronously), and the abort listener is removed on every path.
 * - An idle deadline (`withIdleDeadline`) restarts its full bound on every `touch()` the request makes (response
 *   headers, a body chunk, an SSE keep-alive): it bounds silence, not the length of a healthy response. A touch after
 *   the deadline passed, or after the request settled, changes nothing.
 */
import type { Clock, TimerHandle } from './clock'
import { NetworkError } from './errors'

/** Why the watchdog aborts a request: checked through `signal.aborted`, never by reason. */
const EXPIRED = Object.freeze({ name: 'AbortError', message: 'Request deadline passed' })

/**
 * Runs `request` with a signal that also aborts after `timeoutMs` without a `touch()` (see the invariants above).
 * `what` names the awaited sign of life in the error (e.g. `'an answer to a live request'`).
 * @example
 * const result = await withIdleDeadline(clock, 45_000, url, signal, 'response bytes', (deadline, touch) =>
 *   longPollRequest({ ..., signal: deadline, onProgress: touch }))
 */
export async function withIdleDeadline<R>(
  clock: Clock,
  timeoutMs: number,
  url: string,
  signal: AbortSignal,
  what: string,
  request: (deadline: AbortSignal, touch: () => void) => Promise<R>,
): Promise<R> {
  const deadline = new AbortController()
  let expired = false
  let settled = false
  const expire = (): void => {
    expired = true
    deadline.abort(EXPIRED)
  }
  let timer: TimerHandle = clock.setTimeout(expire, timeoutMs)
  const touch = (): void => {
    if (expired || settled || deadline.signal.aborted) return
    clock.clearTimeout(timer)
    timer = clock.setTimeout(expire, timeoutMs)
  }
  const forward = (): void => {
    clock.clearTimeout(timer)
    deadline.abort(signal.reason)
  }
  if (signal.aborted) forward()
  else signal.addEventListener('abort', forward, { once: true })
  const timedOut = (): NetworkError => new NetworkError(url, new Error(`no ${what} within ${timeoutMs} ms`))
  try {
    const result = await request(deadline.signal, touch)
    if (expired && !signal.aborted) throw timedOut()
    return result
  } catch (error) {
    if (expired && !signal.aborted) throw timedOut()
    throw error
  } finally {
    settled = true
    clock.clearTimeout(timer)
    signal.removeEventListener('abort', forward)
  }
}

/**
 * Runs `request` with a signal that also aborts after `timeoutMs` in all: the live long-poll's deadline.
 * @example
 * const result = await withLiveDeadline(clock, 45_000, url, signal, (deadline) => longPollRequest({ ..., signal: deadline }))
 */
export function withLiveDeadline<R>(
  clock: Clock,
  timeoutMs: number,
  url: string,
  signal: AbortSignal,
  request: (deadline: AbortSignal) => Promise<R>,
): Promise<R> {
  return withIdleDeadline(clock, timeoutMs, url, signal, 'answer to a live request', (deadline) => request(deadline))
}
