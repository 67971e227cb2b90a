/**
 * How a stream paces its refetches when a server or cache keeps answering 409, or keeps replaying the handle a 409
 * expired (shapeStream.ts, on 409s and stale responses): without it, a cache that answers 409 to everything gets thousands of requests a
 * second from one shape.
 *
 * Invariants:
 * - 409s and refused stale responses are counted separately since the last up-to-date; the first of each goes
 *   out again at once, every later one is a retryable typed error the stream backs off on (`retry-after` honoured).
 * - Every cache buster handed out is distinct within one stream, even with a frozen clock and a constant
 *   `random` (a buster that repeats would hit the very cache entry it is meant to bypass).
 */
import type { Clock } from './clock'
import { RepeatedMustRefetchError, StaleResponseError } from './errors'

/**
 * Refetch bookkeeping of one stream.
 * @example
 * const failure = guard.mustRefetch(url, retryAfter)
 * if (failure) throw failure // backs off
 */
export class RefetchGuard {
  readonly #clock: Clock
  readonly #random: () => number
  #mustRefetches = 0
  #staleResponses = 0
  #busters = 0

  constructor(clock: Clock, random: () => number) {
    this.#clock = clock
    this.#random = random
  }

  /** One more 409: `undefined` to refetch at once, or the error to back off on. */
  mustRefetch(url: string, retryAfter: string | undefined): RepeatedMustRefetchError | undefined {
    this.#mustRefetches += 1
    if (this.#mustRefetches < 2) return undefined
    const headers = retryAfter === undefined ? {} : { 'retry-after': retryAfter }
    return new RepeatedMustRefetchError({ url, headers, consecutive: this.#mustRefetches })
  }

  /** One more response of the expired handle: `undefined` to refetch at once, or the error to back off on. */
  staleResponse(url: string, handle: string): StaleResponseError | undefined {
    this.#staleResponses += 1
    return this.#staleResponses < 2 ? undefined : new StaleResponseError(url, handle)
  }

  /** The shape reached an up-to-date: the counts start again. */
  upToDate(): void {
    this.#mustRefetches = 0
    this.#staleResponses = 0
  }

  /** A fresh cache buster, never equal to an earlier one of this stream. */
  cacheBuster(): string {
    this.#busters += 1
    return `${this.#clock.now()}-${Math.floor(this.#random() * 1e9).toString(36)}${this.#busters.toString(36)}`
  }
}
