/**
 * `electric-cursor`: the cache-busting value a live response hands to the client's next live request.
 *
 * Invariants:
 * - The cursor is the smallest multiple of the long-poll interval (in whole seconds, at least 1) that is
 *   greater than or equal to the seconds elapsed since 2024-10-09T00:00:00Z, so every client in the same interval
 *   gets the same live URL and a CDN can collapse their requests.
 * - The cursor is strictly greater than the request's `cursor` when that parses as an integer: otherwise it
 *   becomes `cursor + random(1..3600)`, so a cached live answer never loops back to itself.
 */

/** 2024-10-09T00:00:00Z in milliseconds: the epoch of Electric's cursor. */
export const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9)

export interface CursorInput {
  /** Milliseconds since the Unix epoch. */
  nowMs: number
  longPollTimeoutMs: number
  /** The request's `cursor` param, if any. */
  requestCursor: string | null | undefined
  /** Uniform in [0, 1). */
  random: () => number
}

/**
 * Computes the next `electric-cursor`.
 * @example
 * nextCursor({ nowMs: Date.now(), longPollTimeoutMs: 20_000, requestCursor: url.searchParams.get('cursor'), random: Math.random })
 */
export function nextCursor(input: CursorInput): string {
  const intervalSeconds = Math.max(1, Math.floor(input.longPollTimeoutMs / 1000))
  const elapsedSeconds = Math.max(0, Math.floor((input.nowMs - CURSOR_EPOCH_MS) / 1000))
  const interval = BigInt(Math.ceil(elapsedSeconds / intervalSeconds) * intervalSeconds)
  const previous = parseCursor(input.requestCursor)
  if (previous === undefined || interval > previous) return String(interval)
  return String(previous + BigInt(1 + Math.floor(input.random() * 3600)))
}

function parseCursor(value: string | null | undefined): bigint | undefined {
  if (value === null || value === undefined || !/^\d{1,30}$/.test(value)) return undefined
  return BigInt(value)
}
