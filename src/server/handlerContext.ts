/**
 * What every request of one handler shares: resolved options, the shape registry and a monotonic stamp.
 */
import type { Clock } from '../core/clock'
import type { CorsPolicy } from './corsPolicy'
import type { ShapeRegistry } from './shapeRegistry'
import type { ChangeSource } from './sources/source'
import type { TableAccess } from './tableAccess'

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
  /** The tables shapes may read (tableAccess.ts). */
  access: TableAccess
  /** The largest request body read, in bytes (requestBody.ts). */
  maxBodyBytes: number
  /** Whether `DELETE /v1/shape` is served. */
  allowDelete: boolean
  cors: CorsPolicy
}

export interface HandlerContext {
  readonly options: ResolvedHandlerOptions
  readonly registry: ShapeRegistry
  /** Strictly increasing per handler: the 4th etag component of no-change responses. */
  nextStamp(): number
  /** Hands an internal failure to the handler's `onError` (its text never goes into a response). */
  reportError(error: unknown, request: Request): void
}
