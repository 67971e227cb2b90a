/**
 * A backoff wait that can end early: after an outage, `retryNow()`, `online`, `focus` or a visible page should retry
 * at once instead of sitting out a wait of up to 32 s (shapeStream.ts, on ending a backoff early).
 *
 * Invariants:
 * - `sleep` resolves when its time elapsed or `wake()` was called, and rejects with the signal's reason only
 *   when `signal` aborts; it leaves no timer or listener behind on any path (clock.ts: `sleep` leaves no timer behind).
 * - `wake()` acts only on a wait in progress and says whether there was one; one wait at a time.
 */
import type { Clock } from './clock'
import { sleep } from './clock'

/** Why a wait ended early: checked by identity. */
const EARLY = Object.freeze({ name: 'AbortError', message: 'Backoff ended early' })

/**
 * One stream's backoff wait.
 * @example
 * await wait.sleep(clock, delayMs, signal) // ends early on wait.wake()
 */
export class BackoffWait {
  #wake: (() => void) | undefined

  /** True while a wait is in progress. */
  get waiting(): boolean {
    return this.#wake !== undefined
  }

  /** Waits `ms` on `clock`, or until `wake()`; rejects only when `signal` aborts. */
  async sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
    const early = new AbortController()
    const forward = (): void => early.abort(signal.reason)
    signal.addEventListener('abort', forward, { once: true })
    this.#wake = () => early.abort(EARLY)
    try {
      await sleep(clock, ms, early.signal)
    } catch (error) {
      if (signal.aborted || early.signal.reason !== EARLY) throw error
    } finally {
      this.#wake = undefined
      signal.removeEventListener('abort', forward)
    }
  }

  /** Ends the wait in progress now; false when there is none. */
  wake(): boolean {
    const wake = this.#wake
    if (wake === undefined) return false
    wake()
    return true
  }
}
