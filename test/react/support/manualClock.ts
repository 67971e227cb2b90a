/**
 * A `Clock` whose time moves only when a test says so; timers fire in due order inside `advance`.
 */
import type { Clock, TimerHandle } from '../../../src/core/index'

interface Timer {
  id: number
  at: number
  callback: () => void
}

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void
  /** Number of timers not yet fired or cleared. */
  readonly pending: number
  /** Milliseconds until the earliest pending timer is due, or undefined when none is pending. */
  nextDueIn(): number | undefined
}

export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start
  let nextId = 1
  const timers = new Map<number, Timer>()
  return {
    now: () => now,
    setTimeout(callback, ms): TimerHandle {
      const id = nextId++
      timers.set(id, { id, at: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        const due = [...timers.values()].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0]
        if (due === undefined) break
        timers.delete(due.id)
        now = due.at
        due.callback()
      }
      now = until
    },
    get pending() {
      return timers.size
    },
    nextDueIn() {
      let earliest: number | undefined
      for (const timer of timers.values()) if (earliest === undefined || timer.at < earliest) earliest = timer.at
      return earliest === undefined ? undefined : Math.max(0, earliest - now)
    },
  }
}
