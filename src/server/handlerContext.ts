/**
 * What every request of one handler shares: resolved options, the shape registry and a monotonic stamp.
 */
import type { Clock } from '../core/clock'
import type { CorsPolicy } from './corsPolicy'
import type { ShapeRegistry } from './shapeRegistry'
import type { SnapshotGate } from './snapshotGate'
import type { ChangeSource } from './sources/source'
import type { TableAccess } from './tableAccess'
import type { SseStreams } from './sseStream'
import type { WhereLimits } from './where/whereLimits'

export interface ResolvedHandlerOptions {
  source: ChangeSource
  longPollTimeoutMs: number
  sseTimeoutMs: number
  keepAliveMs: number
  chunkBytes: number
  clock: Clock
  random: () => number
  /** Required `secret` param of shape requests, if any (see the `secret` rule in handler.ts). */
  secret: string | undefined
  /** The tables shapes may read (tableAccess.ts). */
  access: TableAccess
  /** The largest request body read, in bytes (requestBody.ts). */
  maxBodyBytes: number
  /** Whether `DELETE /v1/shape` is served. */
  allowDelete: boolean
  cors: CorsPolicy
  /** Size limits of `where` and `params`, shapes' and subsets' (whereLimits.ts). */
  whereLimits: WhereLimits
  /** `timeoutMs` of every snapshot query (source.ts). */
  snapshotTimeoutMs: number
  /** Most rows, and approximate JSON size, of one subset snapshot answer (subsetSnapshot.ts size bound). */
  maxSubsetRows: number
  maxSubsetBytes: number
  /** Queue bound of an SSE body (sseStream.ts backpressure). */
  sseBufferBytes: number
  /** How far an SSE reader may fall behind before it is cut (sseStream.ts lag cut). */
  sseMaxLagBytes: number
}

export interface HandlerContext {
  readonly options: ResolvedHandlerOptions
  readonly registry: ShapeRegistry
  /** Bounds the snapshot queries running at once (snapshotGate.ts). */
  readonly gate: SnapshotGate
  /** Open SSE bodies, for `stats()`. */
  readonly sse: SseStreams
  /** Strictly increasing per handler: the 4th etag component of no-change responses. */
  nextStamp(): number
  /** Hands an internal failure to the handler's `onError` (its text never goes into a response). */
  reportError(error: unknown, request: Request): void
}
