/**
 * What every request of one handler shares: resolved options, the shape registry and a monotonic stamp.
 */
import type { Clock } from '../core/clock'
import type { ShapeRegistry } from './shapeRegistry'
import type { ChangeSource } from './sources/source'

export interface ResolvedHandlerOptions {
  source: ChangeSource
  longPollTimeoutMs: number
  sseTimeoutMs: number
  keepAliveMs: number
  chunkBytes: number
  clock: Clock
  random: () => number
  /** Required `secret` param of shape requests, if any (handler.ts A3). */
  secret: string | undefined
}

export interface HandlerContext {
  readonly options: ResolvedHandlerOptions
  readonly registry: ShapeRegistry
  /** Strictly increasing per handler: the 4th etag component of no-change responses. */
  nextStamp(): number
}
