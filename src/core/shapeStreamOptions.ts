/**
 * The options of a `ShapeStream`: a shape's options plus the dependencies the stream is built with (store, fetch,
 * clock, randomness, adapters, live runner, starting position) and its request deadlines.
 */
import type { Yielder } from './yielder'
import type { Clock } from './clock'
import type { ConnectivityAdapter } from './connectivity'
import type { FetchLike } from './fetchLike'
import type { LiveRequestRunner } from './liveRunner'
import type { RetryAfterHold } from './retryAfterHold'
import type { StreamSink } from './responseApplier'
import type { ShapeOptions } from './shapeOptions'
import type { StreamStart } from './streamState'
import type { VisibilityAdapter } from './visibility'

/** Default of `liveRequestTimeoutMs`: more than twice the server's 20 s long-poll and keep-alive interval. */
export const DEFAULT_LIVE_REQUEST_TIMEOUT_MS = 45_000
/** Default of `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 45_000

/**
 * Options of a `ShapeStream`: the shape's options plus its dependencies.
 * @example
 * new ShapeStream({ url, params: { table: 'items' }, store, clock, requestTimeoutMs: 30_000 })
 */
export interface ShapeStreamOptions<T> extends ShapeOptions<T> {
  store: StreamSink<T>
  fetch?: FetchLike | undefined
  clock?: Clock | undefined
  random?: (() => number) | undefined
  /** Aborting it stops the stream for good. */
  signal?: AbortSignal | undefined
  visibility?: VisibilityAdapter | undefined
  /** `online` / `focus` end a backoff wait early; `isOnline() === false` shows as `status.offline`. */
  connectivity?: ConnectivityAdapter | undefined
  /** Used for live requests while it is enabled (e.g. SSE); long-poll otherwise. */
  liveRunner?: LiveRequestRunner | undefined
  /** Resume from a known position (hydration). */
  from?: StreamStart | undefined
  /** Paces the reading of large snapshot bodies so no task blocks the main thread for long (default `createYielder()`). */
  yielder?: Yielder | undefined
  /** Where a `retry-after` the server sent is kept beyond this stream; waited out, as a backoff, before this stream's first request. */
  retryAfterHold?: RetryAfterHold | undefined
}
