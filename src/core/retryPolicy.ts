/**
 * What a stream does after a failed request: back off by itself, or hand the error to `onError`.
 *
 * Invariants:
 * - Retryable errors (network, 429, 5xx, malformed bodies) wait a `Backoff` delay with `retry-after` as a floor,
 *   up to `maxRetries` in a row; then they become a non-retryable `RetriesExhaustedError`.
 * - Non-retryable errors are retried only when `onError` asks, at most `MAX_ON_ERROR_RETRIES` times in a row,
 *   after a jittered wait `random() * min(maxDelayMs, initialDelayMs * multiplier^(n-1))`; `MissingHeadersError`
 *   is never retried (a misconfigured proxy does not heal by asking again).
 * - A success resets both counters.
 */
import type { BackoffOptions } from './backoff'
import type { ShapeError } from './errors'
import { Backoff, parseRetryAfter } from './backoff'
import { FetchError, MissingHeadersError, RetriesExhaustedError } from './errors'
import { HEADER } from './protocol'

/** `onError` may ask for at most this many retries in a row. */
export const MAX_ON_ERROR_RETRIES = 50

/** The policy's answer to a failure. */
export type FailureDecision =
  | { kind: 'backoff'; delayMs: number }
  /** Stop unless `onError` recovers; `error` may differ from the failure (`RetriesExhaustedError`). */
  | { kind: 'fatal'; error: ShapeError }

/**
 * Retry bookkeeping of one stream.
 * @example
 * const decision = policy.afterFailure(error, clock.now())
 * if (decision.kind === 'backoff') await sleep(clock, decision.delayMs, signal)
 */
export class RetryPolicy {
  readonly #backoff: Backoff
  readonly #random: () => number
  readonly #initialDelayMs: number
  readonly #maxDelayMs: number
  readonly #multiplier: number
  #recoveries = 0

  constructor(options: BackoffOptions, random: () => number) {
    this.#backoff = new Backoff(options, random)
    this.#random = random
    this.#initialDelayMs = options.initialDelayMs ?? 1000
    this.#maxDelayMs = options.maxDelayMs ?? 32_000
    this.#multiplier = options.multiplier ?? 2
  }

  /** A backoff delay for a retryable error, or the error to stop on. */
  afterFailure(error: ShapeError, now: number): FailureDecision {
    if (!error.retryable) return { kind: 'fatal', error }
    const retryAfter = error instanceof FetchError ? parseRetryAfter(error.headers[HEADER.retryAfter], now) : undefined
    const delayMs = this.#backoff.next(retryAfter)
    if (delayMs !== undefined) return { kind: 'backoff', delayMs }
    return { kind: 'fatal', error: new RetriesExhaustedError(this.#backoff.attempts + 1, error) }
  }

  /** The wait before a retry `onError` asked for, or `undefined` when that retry is not allowed. */
  recoveryDelay(error: ShapeError): number | undefined {
    if (error instanceof MissingHeadersError || this.#recoveries >= MAX_ON_ERROR_RETRIES) return undefined
    this.#recoveries += 1
    this.#backoff.reset()
    const ceiling = Math.min(this.#maxDelayMs, this.#initialDelayMs * this.#multiplier ** (this.#recoveries - 1))
    return Math.floor(this.#random() * ceiling)
  }

  /** A success resets both counters. */
  succeeded(): void {
    this.#backoff.reset()
    this.#recoveries = 0
  }
}
