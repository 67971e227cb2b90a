/**
 * Time as a dependency: everything in core that waits or reads the time goes through a `Clock`, so tests drive it.
 *
 * Invariants:
 * - C1. `realClock` looks up the global timer functions on every call (never captured at import), so it runs in
 *   browsers, workers and Node alike, and fake timers installed later still apply.
 * - C2. `sleep` leaves no timer behind: it resolves by its timer or rejects on abort, and the abort path clears the
 *   timer and removes its listener.
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
}

/** The platform clock (`Date.now` and the global timers). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
}

/** The reason `sleep` and aborted requests reject with when no reason was given to `abort()`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}

/**
 * Waits `ms` on `clock`; rejects with the signal's reason as soon as `signal` aborts (C2). `ms <= 0` resolves at once
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
