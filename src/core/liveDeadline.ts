/**
 * A deadline for a live long-poll: a connection the platform has not noticed is dead would otherwise wait forever.
 *
 * Invariants:
 * - W1. The request runs under its own signal, aborted when the deadline passes or when the caller's signal aborts;
 *   a deadline that passed while the caller's signal did not abort turns the failure into a retryable
 *   `NetworkError`; any other failure goes through as it is.
 * - W2. The timer is cleared when the request settles, and at once when the caller's signal aborts (stop and
 *   pause leave no timer behind synchronously), and the abort listener is removed on every path.
 */
import type { Clock } from './clock'
import { NetworkError } from './errors'

/** Why the watchdog aborts a request: checked through `signal.aborted`, never by reason. */
const EXPIRED = Object.freeze({ name: 'AbortError', message: 'Live request deadline passed' })

/**
 * Runs `request` with a signal that also aborts after `timeoutMs` (W1, W2).
 * @example
 * const result = await withLiveDeadline(clock, 45_000, url, signal, (deadline) => longPollRequest({ ..., signal: deadline }))
 */
export async function withLiveDeadline<R>(
  clock: Clock,
  timeoutMs: number,
  url: string,
  signal: AbortSignal,
  request: (deadline: AbortSignal) => Promise<R>,
): Promise<R> {
  const deadline = new AbortController()
  let expired = false
  const timer = clock.setTimeout(() => {
    expired = true
    deadline.abort(EXPIRED)
  }, timeoutMs)
  const forward = (): void => {
    clock.clearTimeout(timer)
    deadline.abort(signal.reason)
  }
  if (signal.aborted) forward()
  else signal.addEventListener('abort', forward, { once: true })
  try {
    return await request(deadline.signal)
  } catch (error) {
    if (expired && !signal.aborted) throw new NetworkError(url, new Error(`no answer to a live request within ${timeoutMs} ms`))
    throw error
  } finally {
    clock.clearTimeout(timer)
    signal.removeEventListener('abort', forward)
  }
}
