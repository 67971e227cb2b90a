/**
 * Time as a dependency: everything in core that waits or reads the time goes through a `Clock`, so tests drive it.
 *
 * Invariants:
 * - `realClock` looks up the global timer functions on every call (never captured at import), so it runs in
 *   browsers, workers and Node alike, and fake timers installed later still apply.
 * - A `realClock` timer longer than the platform can hold (2^31 - 1 ms, about 24.8 days; `Infinity` included) never
 *   fires: browsers and Node would fire it at once, so `timeoutMs: Infinity` ("wait as long as it takes") would time
 *   out at once instead.
 * - `sleep` leaves no timer behind: it resolves by its timer or rejects on abort, and the abort path clears the
 *   timer and removes its listener.
 * - `yieldToEventLoop` resolves in a later task (not a microtask), so a loop that awaits it between requests lets
 *   timers, rendering and I/O run even when `fetch` answers without I/O. It uses a `MessageChannel` where there is
 *   one (no 4 ms timer clamp, and fake timers do not freeze it), else a 0 ms timer; its channel is closed at once.
 */

/**
 * Opaque timer id returned by `Clock.setTimeout`.
 * @example
 * const handle: TimerHandle = clock.setTimeout(() => {}, 1000); clock.clearTimeout(handle)
 */
export type TimerHandle = unknown

/**
 * The clock and timers core uses.
 * @example
 * const clock: Clock = { now: () => 0, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as never) }
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(callback: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  /** Resolves in a later task, not a microtask; when absent, `yieldToEventLoop`'s default is used. */
  yield?(): Promise<void>
}

/** The longest delay platform timers hold; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** The handle of a timer too long to ever fire (see the invariants). */
const NEVER: TimerHandle = Symbol('never')

/** The platform clock (`Date.now` and the global timers). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => (ms > MAX_TIMER_MS ? NEVER : globalThis.setTimeout(callback, ms)),
  clearTimeout: (handle) => {
    if (handle !== NEVER) globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0])
  },
}

/** The reason `sleep` and aborted requests reject with when no reason was given to `abort()`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}

/**
 * Waits `ms` on `clock`; rejects with the signal's reason as soon as `signal` aborts. `ms <= 0` resolves at once
 * without a timer.
 * @example
 * await sleep(realClock, 1000, controller.signal)
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal))
  if (ms <= 0) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle)
      reject(abortReason(signal as AbortSignal))
    }
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

interface MessagePortLike {
  onmessage: ((event: unknown) => void) | null
  postMessage(message: unknown): void
  close(): void
}

/**
 * Resolves in a later task, never in the current microtask queue: `clock.yield()` when the clock has one.
 * @example
 * while (running) { await yieldToEventLoop(clock); await request() }
 */
export function yieldToEventLoop(clock?: Clock): Promise<void> {
  if (clock?.yield) return clock.yield()
  const Channel = (globalThis as { MessageChannel?: new () => { port1: MessagePortLike; port2: MessagePortLike } }).MessageChannel
  if (typeof Channel !== 'function') return new Promise<void>((resolve) => globalThis.setTimeout(resolve, 0))
  return new Promise<void>((resolve) => {
    const channel = new Channel()
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(undefined)
  })
}
