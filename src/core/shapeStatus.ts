/**
 * `ShapeStatus`: what a UI may show about a shape's connection, derived from the stream state.
 *
 * Invariants:
 * - Status objects are immutable; `deriveStatus` returns the previous object when no field changed, so
 *   subscribers can compare by reference.
 * - `phase` is honest: `live` only when a live request (not a catch-up) is the next thing to happen; a
 *   catch-up after resume is `syncing`; after a 409 it is `refetching` until the next up-to-date.
 * - `retrying` and `error` never mean the same thing: `retrying` is a failure the stream retries by itself
 *   (waiting, with `nextRetryAt`, or with the retry request out, `nextRetryAt` undefined); `error` is a stream that
 *   stopped on its error and will not send another request unless `onError` recovers it, the app calls
 *   `retryNow()`, or it is restarted. Both carry `error`.
 */
import type { ShapeError } from './errors'
import type { StreamState } from './streamState'
import { BEFORE_ALL } from './offset'

/**
 * The lifecycle of a shape as a UI sees it. `retrying`: a failure the stream retries by itself (see `nextRetryAt`);
 * `error`: stopped on its error for good (until `shape.retryNow()` or new options).
 * @example
 * const label: Record<ShapePhase, string> = { idle: '', connecting: 'Connecting', syncing: 'Syncing', live: 'Live', paused: 'Paused', refetching: 'Reloading', retrying: 'Reconnecting', error: 'Offline' }
 */
export type ShapePhase = 'idle' | 'connecting' | 'syncing' | 'live' | 'paused' | 'refetching' | 'retrying' | 'error'

/**
 * How live updates arrive.
 * @example
 * if (status.transport === 'long-poll' && status.fallbackReason) console.info(status.fallbackReason)
 */
export type LiveTransport = 'long-poll' | 'sse'

/** Where a shape's published rows came from: persisted storage, or the server. */
export type ShapeRowSource = 'cache' | 'network'

/**
 * A snapshot of a shape's connection.
 * @example
 * if (status.phase === 'retrying' && status.nextRetryAt) showRetryCountdown(status.nextRetryAt)
 * if (status.phase === 'error') showStopped(status.error)
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
  /** When the next automatic retry is due (epoch ms), while `retrying` waits; undefined once the retry is out. */
  readonly nextRetryAt: number | undefined
  /** The platform says the network is down (`navigator.onLine === false`); the stream keeps retrying regardless. */
  readonly offline: boolean
  readonly handle: string | undefined
  readonly offset: string
  readonly cursor: string | undefined
  /**
   * Set on shapes of a client with `persist`: `'cache'` while the rows shown are the stored ones and no server
   * response has confirmed them yet, `'network'` after that (see src/core/persist/persistedShape.ts).
   */
  readonly source?: ShapeRowSource | undefined
  /** While `source` is `'cache'`: how old the stored rows were when loaded (ms since their last sync). */
  readonly cacheAgeMs?: number | undefined
  /** Something degraded without failing the shape (persistence off after a storage quota error…), for a badge. */
  readonly warning?: string | undefined
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
  offline: false,
  handle: undefined,
  offset: BEFORE_ALL,
  cursor: undefined,
})

/** Transport facts the state machine does not hold. */
export interface TransportInfo {
  transport: LiveTransport
  fallbackReason: string | undefined
  /** From the connectivity adapter; false when absent. */
  offline?: boolean | undefined
}

/** The UI phase of a stream state (honest about `live`, and `retrying` vs `error` above). */
export function phaseOf(state: StreamState): ShapePhase {
  switch (state.phase) {
    case 'stopped':
      return 'idle'
    case 'paused':
      return 'paused'
    case 'backoff':
    case 'retrying':
      return 'retrying'
    case 'error':
      return 'error'
    case 'initial':
    case 'syncing':
    case 'live':
      if (state.refetching) return 'refetching'
      if (state.phase === 'initial') return 'connecting'
      return state.phase === 'live' && !state.nextRequestCatchesUp ? 'live' : 'syncing'
  }
}

/**
 * The status for `state`, reusing `previous` when nothing changed.
 * @example
 * status = deriveStatus(status, state, { transport: 'long-poll', fallbackReason: undefined })
 */
export function deriveStatus(previous: ShapeStatus, state: StreamState, info: TransportInfo): ShapeStatus {
  const next: ShapeStatus = {
    phase: phaseOf(state),
    transport: info.transport,
    fallbackReason: info.fallbackReason,
    isUpToDate: state.upToDateSinceReset,
    lastSyncedAt: state.lastSyncedAt,
    error: state.error,
    nextRetryAt: state.nextRetryAt,
    offline: info.offline ?? false,
    handle: state.handle,
    offset: state.offset,
    cursor: state.cursor,
  }
  return sameStatus(previous, next) ? previous : Object.freeze(next)
}

function sameStatus(a: ShapeStatus, b: ShapeStatus): boolean {
  return (Object.keys(b) as Array<keyof ShapeStatus>).every((key) => Object.is(a[key], b[key]))
}
