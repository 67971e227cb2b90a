/**
 * Retry delays for retryable failures (network, 429, 5xx, malformed bodies).
 *
 * Invariants:
 * - Full jitter: the n-th wait (n from 1) is `random() * min(initialDelayMs * multiplier^(n-1), maxDelayMs)`.
 * - A server's `retry-after` (seconds or HTTP date, capped at one hour) is a floor and may exceed `maxDelayMs`.
 * - After `maxRetries` waits in a row without `reset()`, `next` returns `undefined`: the caller gives up.
 * - Randomness and time are injected; nothing here reads a global clock.
 */

/**
 * Tuning of `Backoff`; every field has the protocol client's default.
 * @example
 * const options = shapeOptions({ url, params: { table: 'todos' }, backoff: { initialDelayMs: 500, maxRetries: 10 } })
 */
export interface BackoffOptions {
  /** First delay ceiling, default 1000 ms. */
  initialDelayMs?: number
  /** Ceiling for the jittered part, default 32 000 ms. */
  maxDelayMs?: number
  /** Growth of the ceiling per attempt, default 2. */
  multiplier?: number
  /** Retries allowed in a row, default `Infinity`. */
  maxRetries?: number
}

const RETRY_AFTER_CAP_MS = 60 * 60 * 1000

/**
 * Reads a `retry-after` header: delta-seconds or an HTTP date relative to `nowMs`, either capped at one hour (a
 * misconfigured proxy's `retry-after: 99999999` must not park a shape for years).
 * @example
 * parseRetryAfter('10', Date.now()) // 10000
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Math.round(Number(trimmed) * 1000), RETRY_AFTER_CAP_MS)
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.min(Math.max(0, date - nowMs), RETRY_AFTER_CAP_MS)
}

/**
 * Counts consecutive retries and hands out their delays.
 * @example
 * const backoff = new Backoff({}, Math.random)
 * const wait = backoff.next(retryAfterMs) // undefined once maxRetries is reached
 */
export class Backoff {
  readonly #initialDelayMs: number
  readonly #maxDelayMs: number
  readonly #multiplier: number
  readonly #maxRetries: number
  readonly #random: () => number
  #attempts = 0

  constructor(options: BackoffOptions, random: () => number) {
    this.#initialDelayMs = options.initialDelayMs ?? 1000
    this.#maxDelayMs = options.maxDelayMs ?? 32_000
    this.#multiplier = options.multiplier ?? 2
    this.#maxRetries = options.maxRetries ?? Infinity
    this.#random = random
  }

  /** Retries handed out since the last `reset()`. */
  get attempts(): number {
    return this.#attempts
  }

  /** The next wait in ms, or `undefined` when retries are exhausted. */
  next(retryAfterMs?: number): number | undefined {
    if (this.#attempts >= this.#maxRetries) return undefined
    const ceiling = Math.min(this.#initialDelayMs * this.#multiplier ** this.#attempts, this.#maxDelayMs)
    this.#attempts += 1
    const jittered = Math.floor(this.#random() * ceiling)
    return Math.max(retryAfterMs ?? 0, jittered)
  }

  /** Called after a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.#attempts = 0
  }
}
