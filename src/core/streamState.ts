/**
 * The protocol state machine of one shape stream: immutable states, pure transitions, time as an input.
 *
 * Invariants:
 * - `transition` never mutates its input and returns the same object when nothing changed.
 * - Long-poll: the offset advances only from `electric-offset` (a response event), never from message bodies.
 * - `live=true` is requested only after an up-to-date since the last reset, and never for the catch-up request
 *   after a resume (`nextRequestCatchesUp`), so initial sync and catch-up are always non-live.
 * - A must-refetch (409) goes back to offset `-1` with the new handle, drops schema and cursor, remembers the old
 *   handle as `expiredHandle` and sets a cache buster for the next request; `lastSyncedAt` survives.
 * - Schema is adopted first-write-wins per handle: a later response never replaces it until a reset.
 * - `stopped` is left only by `start`; events that are not meaningful in a phase return the state unchanged.
 * - Every handle a 409 retired is remembered in `retiredHandles` (the latest `RETIRED_HANDLES_KEPT`), not only the
 *   last one: a cache may replay a response of a handle retired two refetches ago, and adopting it would publish
 *   rows of a past state. `expiredHandle` (the param sent) is the most recent of them.
 * - A stale response (a response of a retired handle, replayed by a cache after a 409) changes nothing but the
 *   cache buster, so the refetch goes out again with a fresh one; a retired handle is never adopted.
 * - A position restored with its rows (`StreamStart.resumeLive`, hydration) is as fresh as those rows, so its
 *   first `start` goes live at once instead of catching up; every later start catches up as usual.
 */
import type { ShapeError } from './errors'
import type { Schema } from './protocol'
import type { RequestPosition } from './requestUrl'
import { BEFORE_ALL } from './offset'

/** How many retired handles a stream remembers; a cache replaying one older than these is not expected. */
export const RETIRED_HANDLES_KEPT = 32

/**
 * Internal: where the protocol state machine is. Users never meet this vocabulary: `shapeStatus.ts` (`phaseOf`)
 * maps it onto the public `ShapePhase` of `ShapeStatus`, which is the only phase the hooks and docs speak of.
 * `backoff` waits to retry; `retrying` has a request out after an error (the error stays until
 * a response proves the server back); `error` is stuck until `onError` recovers or the stream stops.
 */
export type StreamMachinePhase = 'stopped' | 'initial' | 'syncing' | 'live' | 'paused' | 'backoff' | 'retrying' | 'error'

/** One immutable stream state. */
export interface StreamState {
  readonly phase: StreamMachinePhase
  readonly handle: string | undefined
  readonly offset: string
  readonly cursor: string | undefined
  readonly schema: Schema | undefined
  /** An up-to-date arrived since the last reset: requests are live. */
  readonly upToDateSinceReset: boolean
  /** The next request is a non-live catch-up (after resume or restart). */
  readonly nextRequestCatchesUp: boolean
  /** The next `start` requests live without a catch-up; cleared by that start. */
  readonly resumeLive: boolean
  /** After a 409, until the next up-to-date. */
  readonly refetching: boolean
  readonly expiredHandle: string | undefined
  /** Every handle a 409 retired on this stream (the latest `RETIRED_HANDLES_KEPT`), oldest first. */
  readonly retiredHandles: readonly string[]
  readonly cacheBuster: string | undefined
  readonly lastSyncedAt: number | undefined
  readonly error: ShapeError | undefined
  readonly nextRetryAt: number | undefined
}

/** Everything that moves the machine. */
export type StreamEvent =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'pause' }
  | { type: 'resume' }
  | {
      type: 'response'
      handle: string
      offset: string
      cursor: string | undefined
      schema: Schema | undefined
      upToDate: boolean
      now: number
    }
  | { type: 'must-refetch'; handle: string | undefined; cacheBuster: string }
  /** A response of `expiredHandle` was refused: only the cache buster changes. */
  | { type: 'stale-response'; cacheBuster: string }
  | { type: 'retryable-error'; error: ShapeError; nextRetryAt: number }
  | { type: 'fatal-error'; error: ShapeError }
  /** A backoff elapsed or `onError` asked to retry: a request goes out, the error stays until a response. */
  | { type: 'retry' }

/** Where a stream starts: fresh, or from a dehydrated position. */
export interface StreamStart {
  handle?: string | undefined
  offset?: string | undefined
  cursor?: string | undefined
  schema?: Schema | undefined
  upToDateSinceReset?: boolean | undefined
  lastSyncedAt?: number | undefined
  /** The rows given with this position are as of `offset` (hydration): the first start goes live at once. */
  resumeLive?: boolean | undefined
}

/**
 * The state before `start`.
 * @example
 * const state = transition(initialStreamState(), { type: 'start' })
 */
export function initialStreamState(from: StreamStart = {}): StreamState {
  const upToDateSinceReset = (from.upToDateSinceReset ?? false) && from.handle !== undefined
  return {
    phase: 'stopped',
    handle: from.handle,
    offset: from.offset ?? BEFORE_ALL,
    cursor: from.cursor,
    schema: from.schema,
    upToDateSinceReset,
    nextRequestCatchesUp: false,
    resumeLive: upToDateSinceReset && (from.resumeLive ?? false),
    refetching: false,
    expiredHandle: undefined,
    retiredHandles: [],
    cacheBuster: undefined,
    lastSyncedAt: from.lastSyncedAt,
    error: undefined,
    nextRetryAt: undefined,
  }
}

/** The active phase a state returns to once nothing (pause, error) holds it. */
function activePhase(state: StreamState): StreamMachinePhase {
  if (state.upToDateSinceReset) return 'live'
  return state.handle === undefined || state.offset === BEFORE_ALL ? 'initial' : 'syncing'
}

/**
 * The pure transition function.
 * @example
 * transition(state, { type: 'response', handle: 'h', offset: '0_0', cursor: undefined, schema, upToDate: false, now: 0 })
 */
export function transition(state: StreamState, event: StreamEvent): StreamState {
  if (state.phase === 'stopped' && event.type !== 'start') return state
  switch (event.type) {
    case 'start':
      if (state.phase !== 'stopped') return state
      return {
        ...state,
        phase: activePhase(state),
        nextRequestCatchesUp: state.upToDateSinceReset && !state.resumeLive,
        resumeLive: false,
        error: undefined,
        nextRetryAt: undefined,
      }
    case 'stop':
      return { ...state, phase: 'stopped', nextRetryAt: undefined }
    case 'pause':
      if (state.phase === 'paused' || state.phase === 'error') return state
      return { ...state, phase: 'paused', nextRetryAt: undefined }
    case 'resume':
      if (state.phase !== 'paused') return state
      return { ...state, phase: activePhase(state), nextRequestCatchesUp: state.upToDateSinceReset, error: undefined }
    case 'response': {
      if (state.phase === 'paused' || state.phase === 'error') return state
      const sameHandle = state.handle === event.handle
      const upToDateSinceReset = event.upToDate || (state.upToDateSinceReset && sameHandle)
      const next: StreamState = {
        ...state,
        handle: event.handle,
        offset: event.offset,
        cursor: event.cursor ?? state.cursor,
        schema: sameHandle ? (state.schema ?? event.schema) : event.schema,
        upToDateSinceReset,
        nextRequestCatchesUp: state.nextRequestCatchesUp && !event.upToDate,
        refetching: state.refetching && !event.upToDate,
        cacheBuster: undefined,
        lastSyncedAt: event.upToDate ? event.now : state.lastSyncedAt,
        error: undefined,
        nextRetryAt: undefined,
      }
      return { ...next, phase: activePhase(next) }
    }
    case 'must-refetch': {
      if (state.phase === 'paused' || state.phase === 'error') return state
      return {
        ...state,
        phase: 'initial',
        handle: event.handle,
        offset: BEFORE_ALL,
        cursor: undefined,
        schema: undefined,
        upToDateSinceReset: false,
        nextRequestCatchesUp: false,
        refetching: true,
        expiredHandle: state.handle ?? state.expiredHandle,
        retiredHandles: retire(state.retiredHandles, state.handle),
        cacheBuster: event.cacheBuster,
        error: undefined,
        nextRetryAt: undefined,
      }
    }
    case 'stale-response':
      if (state.phase === 'paused' || state.phase === 'error') return state
      return { ...state, cacheBuster: event.cacheBuster }
    case 'retryable-error':
      if (state.phase === 'paused') return state
      return { ...state, phase: 'backoff', error: event.error, nextRetryAt: event.nextRetryAt }
    case 'fatal-error':
      return { ...state, phase: 'error', error: event.error, nextRetryAt: undefined }
    case 'retry':
      if (state.phase !== 'backoff' && state.phase !== 'error') return state
      return { ...state, phase: 'retrying', nextRetryAt: undefined }
  }
}

function retire(retired: readonly string[], handle: string | undefined): readonly string[] {
  if (handle === undefined || retired.includes(handle)) return retired
  const next = [...retired, handle]
  return next.length > RETIRED_HANDLES_KEPT ? next.slice(next.length - RETIRED_HANDLES_KEPT) : next
}

/**
 * Whether `handle` is one a 409 retired on this stream: a response of it is a cache's replay, never applied.
 * @example
 * isRetiredHandle(state, meta.handle) // true after a 409 retired meta.handle
 */
export function isRetiredHandle(state: StreamState, handle: string | undefined): boolean {
  return handle !== undefined && state.retiredHandles.includes(handle)
}

/**
 * The position params of the next request for `state`.
 * @example
 * requestPosition(state) // { offset: '0_0', handle: 'h', live: false, … }
 */
export function requestPosition(state: StreamState): RequestPosition {
  const live = state.upToDateSinceReset && !state.nextRequestCatchesUp
  return {
    offset: state.offset,
    handle: state.handle,
    live,
    cursor: live ? state.cursor : undefined,
    cacheBuster: state.cacheBuster,
    expiredHandle: state.expiredHandle,
  }
}
