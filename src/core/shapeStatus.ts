/**
 * `ShapeStatus`: what a UI may show about a shape's connection, derived from the stream state.
 *
 * Invariants:
 * - ST1. Status objects are immutable; `deriveStatus` returns the previous object when no field changed, so
 *   subscribers can compare by reference.
 * - ST2. `phase` is honest: `live` only when a live request (not a catch-up) is the next thing to happen; a
 *   catch-up after resume is `syncing`; after a 409 it is `refetching` until the next up-to-date; `error` covers
 *   both backoff (`nextRetryAt` set) and stopped-by-error.
 */
import type { ShapeError } from './errors'
import type { StreamState } from './streamState'
import { BEFORE_ALL } from './offset'

/**
 * The lifecycle of a shape as a UI sees it.
 * @example
 * const label: Record<ShapePhase, string> = { idle: '', connecting: 'Connecting', syncing: 'Syncing', live: 'Live', paused: 'Paused', refetching: 'Reloading', error: 'Offline' }
 */
export type ShapePhase = 'idle' | 'connecting' | 'syncing' | 'live' | 'paused' | 'refetching' | 'error'

/**
 * How live updates arrive.
 * @example
 * if (status.transport === 'long-poll' && status.fallbackReason) console.info(status.fallbackReason)
 */
export type LiveTransport = 'long-poll' | 'sse'

/**
 * A snapshot of a shape's connection.
 * @example
 * if (status.phase === 'error' && status.nextRetryAt) showRetryCountdown(status.nextRetryAt)
 */
export interface ShapeStatus {
  readonly phase: ShapePhase
  readonly transport: LiveTransport
  /** Why the live transport fell back to long-polling (set by the SSE runner). */
  readonly fallbackReason: string | undefined
  /** The rows reached the server's head at least once since the last reset (409). */
  readonly isUpToDate: boolean
  readonly lastSyncedAt: number | undefined
  readonly error: ShapeError | undefined
  /** When the next automatic retry is due (epoch ms), while backing off. */
  readonly nextRetryAt: number | undefined
  readonly handle: string | undefined
  readonly offset: string
  readonly cursor: string | undefined
}

/** The status of a shape that is not running. */
export const IDLE_STATUS: ShapeStatus = Object.freeze({
  phase: 'idle',
  transport: 'long-poll',
  fallbackReason: undefined,
  isUpToDate: false,
  lastSyncedAt: undefined,
  error: undefined,
  nextRetryAt: undefined,
  handle: undefined,
  offset: BEFORE_ALL,
  cursor: undefined,
})

/** Transport facts the state machine does not hold. */
export interface TransportInfo {
  transport: LiveTransport
  fallbackReason: string | undefined
}

/** The UI phase of a stream state (ST2). */
export function phaseOf(state: StreamState): ShapePhase {
  switch (state.phase) {
    case 'stopped':
      return 'idle'
    case 'paused':
      return 'paused'
    case 'backoff':
    case 'retrying':
    case 'error':
      return 'error'
    case 'initial':
    case 'syncing':
    case 'live':
      if (state.refetching) return 'refetching'
      if (state.phase === 'initial') return 'connecting'
      return state.phase === 'live' && !state.catchUp ? 'live' : 'syncing'
  }
}

/**
 * The status for `state`, reusing `previous` when nothing changed (ST1).
 * @example
 * status = deriveStatus(status, state, { transport: 'long-poll', fallbackReason: undefined })
 */
export function deriveStatus(previous: ShapeStatus, state: StreamState, info: TransportInfo): ShapeStatus {
  const next: ShapeStatus = {
    phase: phaseOf(state),
    transport: info.transport,
    fallbackReason: info.fallbackReason,
    isUpToDate: state.caughtUp,
    lastSyncedAt: state.lastSyncedAt,
    error: state.error,
    nextRetryAt: state.nextRetryAt,
    handle: state.handle,
    offset: state.offset,
    cursor: state.cursor,
  }
  return sameStatus(previous, next) ? previous : Object.freeze(next)
}

function sameStatus(a: ShapeStatus, b: ShapeStatus): boolean {
  return (Object.keys(b) as Array<keyof ShapeStatus>).every((key) => Object.is(a[key], b[key]))
}
