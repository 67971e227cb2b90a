/**
 * A server's `retry-after` outlives the stream that heard it: a new stream of the same shape (a component that
 * unsubscribed during the wait and came back, a shape closed and opened again) waits out what is left of it instead
 * of asking at once (shapeStream.ts, before a stream's first request; shapeClient.ts keeps one hold per shape key).
 *
 * Invariants:
 * - A hold only ever moves later: a shorter `retry-after` heard afterwards does not shorten a longer one.
 * - Holds in the past are forgotten when the registry is next written to, so it never holds more entries than shapes
 *   were told to wait within the longest `retry-after` still running.
 * - Nothing is module-level: each `ShapeClient` owns its registry.
 */
import type { Clock } from './clock'

/** Internal: one shape's hold, as its stream sees it. */
export interface RetryAfterHold {
  /** The time (clock ms) before which no request of this shape should go out; 0 when none. */
  until(): number
  /** Records that the server asked to wait until `atMs`. */
  holdUntil(atMs: number): void
}

/**
 * The holds of one client, by shape key.
 * @example
 * const holds = new RetryAfterHolds(clock)
 * const hold = holds.of(definitionKey) // given to the shape's stream
 */
export class RetryAfterHolds {
  readonly #until = new Map<string, number>()
  readonly #clock: Clock

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** The hold of the shape with key `key`. */
  of(key: string): RetryAfterHold {
    return {
      until: () => this.#until.get(key) ?? 0,
      holdUntil: (atMs) => {
        const now = this.#clock.now()
        for (const [other, at] of this.#until) if (at <= now) this.#until.delete(other)
        if (atMs > now && atMs > (this.#until.get(key) ?? 0)) this.#until.set(key, atMs)
      },
    }
  }
}
