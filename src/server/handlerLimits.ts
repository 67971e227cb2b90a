/**
 * The handler's resource bounds in one place: their defaults, their validation and the `stats()` that shows them
 * at work. The handler is mounted inside users' apps: nothing it buffers is unbounded, and one client cannot starve
 * the others (snapshot gate, `where` limits, statement timeout, subset size, SSE backpressure, shape eviction).
 *
 * Invariants:
 * - Every bound has a finite default; an option that is not a positive number (0 allowed for
 *   `maxQueuedSnapshots`; `Infinity` allowed, meaning no bound, except for `sseBufferBytes`, the queue size the SSE
 *   body reports) throws a `RangeError` naming it when the handler is created.
 */
import type { HandlerContext, ResolvedHandlerOptions } from './handlerContext'
import type { ShapeRegistryOptions } from './shapeRegistry'
import type { SnapshotGateOptions } from './snapshotGate'
import { DEFAULT_WHERE_LIMITS, type WhereLimits } from './where/whereLimits'

/** The handler's resource bounds, resolved by this file (part of `ShapeHandlerOptions`). */
export interface HandlerLimitOptions {
  /** Size limits of `where` / `params` (shapes' and subsets'); unset fields keep `DEFAULT_WHERE_LIMITS`. */
  whereLimits?: Partial<WhereLimits>
  /** `statement_timeout` of each snapshot query, ms. Default 10 000. */
  snapshotTimeoutMs?: number
  /** Snapshot queries run at once, across all clients; the others queue. Default 3. */
  maxConcurrentSnapshots?: number
  /** Snapshot queries allowed to queue; beyond, 503 with `retry-after`. Default 32. */
  maxQueuedSnapshots?: number
  /** Most shapes kept; idle ones are evicted least recently used first. Default 1 000. */
  maxShapes?: number
  /** Approximate bound on the shapes' messages (UTF-16 code units of their JSON), as `maxShapes`. Default 256 MiB. */
  maxShapeBytes?: number
  /**
   * Rows one subset snapshot may answer; a subset matching more (with no `limit`, or a larger one) is a 400
   * `errors.subset.limit`, and the source is never asked for more than one row past it. Default 10 000.
   */
  maxSubsetRows?: number
  /** Approximate size of one subset snapshot's rows (UTF-16 code units of their JSON), as `maxSubsetRows`. Default 10 MiB. */
  maxSubsetBytes?: number
  /** Bytes an SSE body queues for a reader that does not read. Default 64 KiB. */
  sseBufferBytes?: number
  /** Bytes of log an SSE reader may fall behind before the stream is cut (it reconnects). Default 4 MiB. */
  sseMaxLagBytes?: number
}

/**
 * What `handler.stats()` reports: the handler's resource bounds at work.
 * @example
 * const { shapes, sseBufferedBytes } = handler.stats()
 */
export interface ShapeHandlerStats {
  /** Shapes held by the registry. */
  shapes: number
  /** Approximate size of their messages (UTF-16 code units of their JSON). */
  shapeBytes: number
  /** Shapes evicted so far. */
  evicted: number
  /** Snapshot queries running now, and waiting for a slot. */
  snapshotsRunning: number
  snapshotsQueued: number
  /** Open SSE bodies and the bytes queued in them for their readers. */
  sseStreams: number
  sseBufferedBytes: number
  /** SSE streams cut so far because their reader fell too far behind. */
  sseCut: number
}

export const HANDLER_LIMIT_DEFAULTS = Object.freeze({
  snapshotTimeoutMs: 10_000,
  maxConcurrentSnapshots: 3,
  maxQueuedSnapshots: 32,
  maxShapes: 1_000,
  maxShapeBytes: 256 * 1024 * 1024,
  maxSubsetRows: 10_000,
  maxSubsetBytes: 10 * 1024 * 1024,
  sseBufferBytes: 64 * 1024,
  sseMaxLagBytes: 4 * 1024 * 1024,
})

/** The bounds of `options` with their defaults, split by where they are used. */
export function resolveHandlerLimits(options: HandlerLimitOptions): {
  context: Pick<
    ResolvedHandlerOptions,
    'whereLimits' | 'snapshotTimeoutMs' | 'maxSubsetRows' | 'maxSubsetBytes' | 'sseBufferBytes' | 'sseMaxLagBytes'
  >
  gate: SnapshotGateOptions
  registry: Pick<ShapeRegistryOptions, 'snapshotTimeoutMs' | 'maxShapes' | 'maxShapeBytes'>
} {
  const pick = (name: keyof typeof HANDLER_LIMIT_DEFAULTS, min = 1, finite = false): number => {
    const value = options[name] ?? HANDLER_LIMIT_DEFAULTS[name]
    if (typeof value !== 'number' || Number.isNaN(value) || value < min || (finite && !Number.isFinite(value))) {
      throw new RangeError(`${name} must be a ${finite ? 'finite ' : ''}number of at least ${min}, got ${String(value)}`)
    }
    return value
  }
  const whereLimits = { ...DEFAULT_WHERE_LIMITS }
  for (const name of Object.keys(DEFAULT_WHERE_LIMITS) as (keyof WhereLimits)[]) {
    const value = options.whereLimits?.[name]
    if (value === undefined) continue
    if (typeof value !== 'number' || Number.isNaN(value) || value < 1) {
      throw new RangeError(`whereLimits.${name} must be a number of at least 1, got ${String(value)}`)
    }
    whereLimits[name] = value
  }
  const snapshotTimeoutMs = pick('snapshotTimeoutMs')
  return {
    context: {
      whereLimits,
      snapshotTimeoutMs,
      maxSubsetRows: pick('maxSubsetRows'),
      maxSubsetBytes: pick('maxSubsetBytes'),
      sseBufferBytes: pick('sseBufferBytes', 1, true),
      sseMaxLagBytes: pick('sseMaxLagBytes'),
    },
    gate: { maxConcurrent: pick('maxConcurrentSnapshots'), maxQueued: pick('maxQueuedSnapshots', 0) },
    registry: { snapshotTimeoutMs, maxShapes: pick('maxShapes'), maxShapeBytes: pick('maxShapeBytes') },
  }
}

/** The handler's `stats()`. */
export function handlerStats(context: HandlerContext): ShapeHandlerStats {
  const registry = context.registry.stats()
  let sseBufferedBytes = 0
  for (const stream of context.sse.open) sseBufferedBytes += stream.bufferedBytes()
  return {
    ...registry,
    snapshotsRunning: context.gate.running,
    snapshotsQueued: context.gate.queued,
    sseStreams: context.sse.open.size,
    sseBufferedBytes,
    sseCut: context.sse.cut,
  }
}
