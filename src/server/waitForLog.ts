/**
 * Holding a request until a shape's log is ready for it, the time is up, the shape is deleted or the client left.
 *
 * Invariants:
 * - Exactly one outcome; on settling, the timer, the log subscription and the abort listener are all released.
 * - `until` is checked before waiting and after every append, so an append between the caller's read and the
 *   wait is not missed.
 */
import type { Clock } from '../core/clock'
import type { ShapeLog } from './shapeLog'

export type WaitOutcome = 'ready' | 'timeout' | 'deleted' | 'aborted'

export interface WaitOptions {
  until: () => boolean
  timeoutMs: number
  clock: Clock
  signal: AbortSignal | undefined
}

/**
 * Waits for `until()` to hold on `log`.
 * @example
 * const outcome = await waitForLog(log, { until: () => log.read(offset, n).kind === 'data', timeoutMs, clock, signal })
 */
export function waitForLog(log: ShapeLog, options: WaitOptions): Promise<WaitOutcome> {
  if (log.state === 'deleted') return Promise.resolve('deleted')
  if (options.signal?.aborted) return Promise.resolve('aborted')
  if (options.until()) return Promise.resolve('ready')
  return new Promise<WaitOutcome>((resolve) => {
    const settle = (outcome: WaitOutcome): void => {
      options.clock.clearTimeout(timer)
      unsubscribe()
      options.signal?.removeEventListener('abort', onAbort)
      resolve(outcome)
    }
    const onAbort = (): void => settle('aborted')
    const timer = options.clock.setTimeout(() => settle('timeout'), options.timeoutMs)
    const unsubscribe = log.subscribe((event) => {
      if (event === 'deleted') settle('deleted')
      else if (options.until()) settle('ready')
    })
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
