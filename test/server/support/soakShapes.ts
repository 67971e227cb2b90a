/**
 * What the soaks (soak.test.ts on the memory source, soak.pglite.test.ts on PGlite) watch on each live shape: that no
 * row ever shows an older write than it showed before (every write stamps a larger `n`), and that the shape ends live
 * and equal to `SELECT` of its definition.
 */
import type { Shape } from '../../../src/core/shape'
import type { ShapeOptions } from '../../../src/core/shapeOptions'
import { fingerprint, type FaultRow } from './faultScenario'

/** One watched shape of a soak. */
export interface WatchedShape {
  shape: Shape<FaultRow>
  /** Index of its definition in the soak's list. */
  definition: number
  sse: boolean
  /** Per row id, the largest `n` shown so far. */
  seen: Map<number, number>
  violations: string[]
  stop: () => void
}

/** The options of a soak shape of `table` behind `proxyUrl`: short backoff, a live deadline the faults can trip. */
export function soakShapeOptions(proxyUrl: string, table: string, where: string | undefined): ShapeOptions<FaultRow> {
  return {
    url: `${proxyUrl}/v1/shape`,
    params: where === undefined ? { table } : { table, where },
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
    liveRequestTimeoutMs: 5000,
  } as ShapeOptions<FaultRow>
}

/** Starts watching `shape`: every publish is checked for a row whose `n` went back; `stop` ends it. */
export function watchShape(shape: Shape<FaultRow>, definition: number, sse: boolean): WatchedShape {
  const entry: WatchedShape = { shape, definition, sse, seen: new Map(), violations: [], stop: () => undefined }
  entry.stop = shape.subscribe(() => {
    for (const row of shape.getSnapshot().data) {
      const before = entry.seen.get(row.id)
      if (before !== undefined && row.n < before) entry.violations.push(`row ${row.id} went back from n=${before} to n=${row.n}`)
      if (before === undefined || row.n > before) entry.seen.set(row.id, row.n)
    }
  })
  return entry
}

/** Resolves `undefined` once `entry` shows `expected` and is live, or a description after `ms`. */
export function converged(entry: WatchedShape, expected: string, ms: number): Promise<string | undefined> {
  const shape = entry.shape
  const done = (): boolean => shape.getStatus().phase === 'live' && fingerprint(shape.getSnapshot().data) === expected
  return new Promise((resolve) => {
    if (done()) return resolve(undefined)
    const stops: (() => void)[] = []
    const timer = setTimeout(() => {
      for (const stop of stops) stop()
      const status = shape.getStatus()
      resolve(
        `shape ${entry.definition} (${entry.sse ? 'sse' : 'long-poll'}) not converged: phase=${status.phase} ` +
          `error=${status.error?.name ?? '-'}; rows ${fingerprint(shape.getSnapshot().data)} expected ${expected}`,
      )
    }, ms)
    const test = (): void => {
      if (!done()) return
      clearTimeout(timer)
      for (const stop of stops) stop()
      resolve(undefined)
    }
    stops.push(shape.subscribe(test), shape.subscribeStatus(test))
  })
}

/** A soak's writing time: `boundedMs` in the normal suite, `LIVE_SHAPES_SOAK_SECONDS` (60) with `LIVE_SHAPES_SOAK=1`. */
export function soakWriteMs(boundedMs: number): number {
  return process.env['LIVE_SHAPES_SOAK'] === '1' ? Number(process.env['LIVE_SHAPES_SOAK_SECONDS'] ?? '60') * 1000 : boundedMs
}
