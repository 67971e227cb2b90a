/**
 * A real clock that counts its pending timers: what the soak test injects into the clients and the dev server to see
 * whether timers accumulate. A timer is pending from `setTimeout` until it fires or is cleared.
 */
import type { Clock, TimerHandle } from '../../../src/core/clock'
import { realClock } from '../../../src/core/clock'

export interface CountingClock extends Clock {
  readonly pending: number
}

/**
 * A `Clock` over the platform timers that knows how many of its timers are pending.
 * @example
 * const clock = countingClock()
 * const client = new ShapeClient({ clock })
 * clock.pending // timers the client holds right now
 */
export function countingClock(): CountingClock {
  const pending = new Set<TimerHandle>()
  return {
    now: () => realClock.now(),
    setTimeout(callback, ms) {
      const handle = realClock.setTimeout(() => {
        pending.delete(handle)
        callback()
      }, ms)
      pending.add(handle)
      return handle
    },
    clearTimeout(handle) {
      pending.delete(handle)
      realClock.clearTimeout(handle)
    },
    get pending() {
      return pending.size
    },
  }
}
