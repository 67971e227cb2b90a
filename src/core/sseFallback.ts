/**
 * When to give up on SSE: a proxy that buffers `text/event-stream` responses turns every SSE request into a short,
 * immediately closed one. This policy notices that and falls back to long-polling. Pure: state in, state out.
 *
 * Invariants:
 * - A connection is short when it lasted less than `SSE_MIN_CONNECTION_MS`, was not aborted by us and delivered
 *   no change: the server ends an SSE response at once when it starts behind the head (a catch-up), so a short
 *   response that delivered changes is the protocol working, not evidence of a buffering proxy.
 * - A connection that ended because nothing (headers, data, keep-alive) arrived within the heartbeat bound
 *   (`silent`) counts as short whatever its duration and whatever it delivered before: a proxy that holds the stream
 *   back looks exactly like that.
 * - A short connection adds one to `consecutiveShort`; a connection lasting at least `SSE_MIN_CONNECTION_MS`
 *   (aborted or not) sets it to 0, and so does a short one that delivered changes (the path carries the stream:
 *   a run of short catch-ups under load must not add up to a fallback); a brief one we aborted leaves it as it was.
 * - Silent connections are also counted apart, in `consecutiveSilent`, which only a connection that lasted at least
 *   `SSE_MIN_CONNECTION_MS` without going silent sets back to 0. A short catch-up that delivered changes proves
 *   nothing against buffering: behind a proxy that holds the stream until it ends, a catch-up (which the server ends
 *   at once) arrives whole while every connection at the head stays silent, so with steady writes the two alternate
 *   and `consecutiveShort` never reaches the limit while changes arrive only once per heartbeat bound.
 * - When `consecutiveShort` or `consecutiveSilent` reaches `SSE_MAX_SHORT_CONNECTIONS`, `fallenBack` becomes true
 *   with a human reason; it stays true until `resetSseFallback()` (a 409 or any reset of the stream to its initial
 *   state).
 * - After a short connection that did not cause the fallback, the next SSE request waits
 *   `floor(random() * min(SSE_SHORT_BACKOFF_MAX_MS, SSE_SHORT_BACKOFF_BASE_MS * 2^consecutiveShort))` ms; in every
 *   other case the delay is 0.
 * - States are immutable; an event that changes nothing returns the very same state object.
 */

/** Below this duration a connection that we did not abort counts as short. */
export const SSE_MIN_CONNECTION_MS = 1000
/** Short connections in a row that make us fall back to long-polling. */
export const SSE_MAX_SHORT_CONNECTIONS = 3
/** Backoff ceiling after the n-th short connection is `base * 2^n`, capped. */
export const SSE_SHORT_BACKOFF_BASE_MS = 100
export const SSE_SHORT_BACKOFF_MAX_MS = 5000

/** Where the SSE fallback policy stands for one shape stream. */
export interface SseFallbackState {
  /** Short connections in a row. */
  readonly consecutiveShort: number
  /** Silent connections since the last one that lasted without going silent (short catch-ups do not end the run). */
  readonly consecutiveSilent: number
  /** True once SSE is abandoned for long-polling. */
  readonly fallenBack: boolean
  /** Why SSE was abandoned, for status and logs; `undefined` while not fallen back. */
  readonly reason: string | undefined
}

/** How an SSE connection ended, as the policy needs it. */
export interface SseConnectionClosed {
  /** From just before the request was sent to the end of the response (or its failure). */
  durationMs: number
  /** True when we aborted it (unmount, pause, dispose), so its shortness says nothing about the network. */
  aborted: boolean
  /** True when it delivered at least one change message (a catch-up the server ended at once is not short). */
  deliveredChanges?: boolean | undefined
  /** True when the heartbeat bound passed with nothing arriving: counts as short. */
  silent?: boolean | undefined
}

/** The policy's answer: the next state, and how long to wait before the next SSE request. */
export interface SseFallbackDecision {
  state: SseFallbackState
  delayMs: number
}

const INITIAL: SseFallbackState = Object.freeze({ consecutiveShort: 0, consecutiveSilent: 0, fallenBack: false, reason: undefined })

/**
 * The state of a fresh stream: SSE allowed, no short connection seen.
 * @example
 * let fallback = initialSseFallback()
 */
export function initialSseFallback(): SseFallbackState {
  return INITIAL
}

/**
 * Applies one closed SSE connection to the policy.
 * @example
 * const { state, delayMs } = onSseConnectionClosed(fallback, { durationMs: 120, aborted: false }, Math.random)
 * if (state.fallenBack) console.warn(state.reason)
 */
export function onSseConnectionClosed(
  state: SseFallbackState,
  closed: SseConnectionClosed,
  random: () => number,
): SseFallbackDecision {
  if (state.fallenBack) return { state, delayMs: 0 }
  const silent = closed.silent === true && !closed.aborted
  if (closed.durationMs >= SSE_MIN_CONNECTION_MS && !silent) {
    return { state: state.consecutiveShort === 0 && state.consecutiveSilent === 0 ? state : INITIAL, delayMs: 0 }
  }
  if (closed.aborted) return { state, delayMs: 0 }
  if (closed.deliveredChanges === true && !silent) {
    if (state.consecutiveShort === 0) return { state, delayMs: 0 }
    return { state: Object.freeze({ ...state, consecutiveShort: 0 }), delayMs: 0 }
  }
  const consecutiveShort = state.consecutiveShort + 1
  const consecutiveSilent = state.consecutiveSilent + (silent ? 1 : 0)
  if (consecutiveShort >= SSE_MAX_SHORT_CONNECTIONS) {
    const reason =
      `${consecutiveShort} consecutive SSE responses closed within ${SSE_MIN_CONNECTION_MS / 1000} s or stayed ` +
      'silent past the heartbeat bound; a proxy is probably buffering the stream, so live updates now use long-polling'
    return { state: Object.freeze({ consecutiveShort, consecutiveSilent, fallenBack: true, reason }), delayMs: 0 }
  }
  if (consecutiveSilent >= SSE_MAX_SHORT_CONNECTIONS) {
    const reason =
      `${consecutiveSilent} SSE responses stayed silent past the heartbeat bound, with only catch-ups arriving in ` +
      'between; a proxy is probably buffering the stream, so live updates now use long-polling'
    return { state: Object.freeze({ consecutiveShort, consecutiveSilent, fallenBack: true, reason }), delayMs: 0 }
  }
  const ceiling = Math.min(SSE_SHORT_BACKOFF_MAX_MS, SSE_SHORT_BACKOFF_BASE_MS * 2 ** consecutiveShort)
  return {
    state: Object.freeze({ consecutiveShort, consecutiveSilent, fallenBack: false, reason: undefined }),
    delayMs: Math.floor(random() * ceiling),
  }
}

/**
 * Forgets everything: after a 409 (a new handle, maybe a new path through the network) SSE is tried again.
 * @example
 * fallback = resetSseFallback()
 */
export function resetSseFallback(): SseFallbackState {
  return INITIAL
}
