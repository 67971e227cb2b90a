/**
 * A server's `retry-after` outlives the stream that heard it: a new stream of the same shape (a component that
 * unsubscribed during the wait and came back, a shape closed and opened again) waits out what is left of it instead
 * of asking at once (shapeStream.ts, before a stream's first request; shapeClient.ts keeps one hold per shape key).
 * The hold keeps the error that carried the `retry-after`, so the waiting stream's status says why it waits.
 *
 * Invariants:
 * - A `retry-after` is recorded in one place, when the response's headers arrive (`observe`, around the shape's
 *   `fetch`, which both transports use), not when the stream handles the error: a stream stopped while that response
 *   is read (its consumer left) still holds back the next stream of its shape. 409s are not holds (their
 *   `retry-after` paces refetches only).
 * - A hold only ever moves later: a shorter `retry-after` heard afterwards does not shorten a longer one (nor
 *   replace its error).
 * - Holds in the past are forgotten when the registry is next written to, so it never holds more entries than shapes
 *   were told to wait within the longest `retry-after` still running.
 * - Nothing is module-level: each `ShapeClient` owns its registry.
 */
import type { Clock } from './clock'
import { FetchError, type ShapeError } from './errors'
import type { FetchLike } from './fetchLike'
import { HEADER } from './protocol'
import { parseRetryAfter } from './backoff'

/** Until when a shape was told to wait, and the error that said so. */
export interface HeldRetry {
  readonly untilMs: number
  readonly error: ShapeError
}

/** Internal: one shape's hold, as its stream sees it. */
export interface RetryAfterHold {
  /** The wait still running for this shape, if any. */
  current(): HeldRetry | undefined
  /** `fetch` that records the `retry-after` of a retryable error response as soon as its headers arrive. */
  observe(fetch: FetchLike): FetchLike
}

/**
 * The holds of one client, by shape key.
 * @example
 * const holds = new RetryAfterHolds(clock)
 * const hold = holds.of(definitionKey) // given to the shape's stream
 */
export class RetryAfterHolds {
  readonly #held = new Map<string, HeldRetry>()
  readonly #clock: Clock

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** The hold of the shape with key `key`. */
  of(key: string): RetryAfterHold {
    const holdUntil = (untilMs: number, error: ShapeError): void => {
      const now = this.#clock.now()
      for (const [other, held] of this.#held) if (held.untilMs <= now) this.#held.delete(other)
      if (untilMs > now && untilMs > (this.#held.get(key)?.untilMs ?? 0)) this.#held.set(key, { untilMs, error })
    }
    return {
      current: () => {
        const held = this.#held.get(key)
        return held !== undefined && held.untilMs > this.#clock.now() ? held : undefined
      },
      observe: (fetch) => async (input, init) => {
        const response = await fetch(input, init)
        const header = response.headers.get(HEADER.retryAfter)
        if (header !== null && response.status !== 409) {
          const error = new FetchError({ status: response.status, url: input, body: '', headers: response.headers })
          const now = this.#clock.now()
          const ms = error.retryable ? parseRetryAfter(header, now) : undefined
          if (ms !== undefined) holdUntil(now + ms, error)
        }
        return response
      },
    }
  }
}
