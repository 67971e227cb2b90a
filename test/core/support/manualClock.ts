import type { Clock, TimerHandle } from '../../../src/core/clock'

interface Timer {
  id: number
  at: number
  callback: () => void
}

/** A clock that moves only when a test says so; counts its pending timers for leak checks. */
export class ManualClock implements Clock {
  #now: number
  #nextId = 1
  readonly #timers = new Map<number, Timer>()
  /** Every `setTimeout` delay ever requested, in order. */
  readonly delays: number[] = []

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++
    this.delays.push(ms)
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), callback })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }

  get pendingTimers(): number {
    return this.#timers.size
  }

  /** When the earliest pending timer fires, or undefined. */
  nextTimerAt(): number | undefined {
    let earliest: number | undefined
    for (const timer of this.#timers.values()) if (earliest === undefined || timer.at < earliest) earliest = timer.at
    return earliest
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      const due = [...this.#timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (!due) break
      this.#timers.delete(due.id)
      this.#now = due.at
      due.callback()
    }
    this.#now = target
  }
}
