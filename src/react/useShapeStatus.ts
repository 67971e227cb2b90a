/**
 * `useShapeStatus`: the connection of a shape as a UI shows it.
 *
 * Invariants:
 * - The hook re-renders only when the status object changes, and the core makes a new one only when a field
 *   changed. A live batch moves `offset` (and `lastSyncedAt` with each up-to-date), so a badge re-renders once per
 *   applied batch: that keeps `lastSyncedAt` current for a "synced 2 s ago" display. It never re-renders for a row
 *   change that moves no status field (an optimistic write, a per-row subscription).
 * - Given options, the hook holds the stream like `useShape` does; given a `Shape`, it adds its own hold, so the
 *   status it shows is never that of a stream nobody keeps open.
 * - `idle` reads `connecting` only while the hook holds the stream or is about to: not once `subscribe: false` let it
 *   go after its first up-to-date, nor with an aborted `signal` (which holds nothing); a stream nobody holds is
 *   `idle`, since nothing is connecting.
 */
import { IDLE_STATUS } from '../core/internal'
import type { Row, ShapeStatus } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { isShape } from './useRetainedShape'
import { useShapeSlice } from './useShapeSlice'
import type { ShapeSlice } from './useShapeSlice'

/**
 * The `connecting` face of each `idle` status object, built once per object. Weak: an entry lives as long as the
 * core's status object it was made from, so this holds no data of its own.
 */
const CONNECTING = new WeakMap<ShapeStatus, ShapeStatus>()

/**
 * How the hook holds the stream (the slice's argument): `always` (a `Shape`, or options that follow changes),
 * `until-up-to-date` (`subscribe: false`), `never` (an aborted `signal`).
 */
type Hold = 'always' | 'until-up-to-date' | 'never'

function holdOf<T>(shapeOrOptions: ShapeOrOptions<T> | undefined): Hold {
  if (shapeOrOptions === undefined || typeof shapeOrOptions !== 'object' || shapeOrOptions === null || isShape(shapeOrOptions)) return 'always'
  if (shapeOrOptions.signal?.aborted === true) return 'never'
  return shapeOrOptions.subscribe === false ? 'until-up-to-date' : 'always'
}

/**
 * A shape this hook holds is `idle` only between the render and the effect that starts its stream (or, hydrated,
 * until that effect): the hook is about to connect, so it says `connecting`. Server and browser map the same status
 * the same way, so hydration sees what the server rendered; and no painted frame shows `idle` for a shape a
 * component asked for. A shape the hook does not hold (any more) stays `idle`.
 */
function presented(status: ShapeStatus, hold: Hold): ShapeStatus {
  if (status.phase !== 'idle') return status
  if (hold === 'never' || (hold === 'until-up-to-date' && status.isUpToDate)) return status
  let connecting = CONNECTING.get(status)
  if (connecting === undefined) {
    connecting = Object.freeze({ ...status, phase: 'connecting' as const })
    CONNECTING.set(status, connecting)
  }
  return connecting
}

/**
 * The status a server render shows, and so the one hydration first renders: the shape as the browser's copy is
 * about to be, `connecting` with the rows' freshness. A server that really ran the stream (streamed SSR) would
 * otherwise render `live` where the hydrating browser, whose stream has not started, renders `connecting`: a
 * mismatch. The browser shows the real status right after hydration.
 */
function forHydration(status: ShapeStatus): ShapeStatus {
  return Object.freeze({ ...IDLE_STATUS, phase: 'connecting' as const, isUpToDate: status.isUpToDate, lastSyncedAt: status.lastSyncedAt })
}

const STATUS: ShapeSlice<ShapeStatus> = {
  subscribe: (shape, _, listener) => shape.subscribeStatus(listener),
  read: (shape, hold) => presented(shape.getStatus(), hold as Hold),
  readServer: (shape) => forHydration(shape.getStatus()),
  disabled: IDLE_STATUS,
}

/**
 * The status of a shape: `phase` (`connecting` — also before the stream's first request —, `syncing`, `live`, `paused`,
 * `refetching`, `retrying`, `error`, or `idle` while disabled or not held: `subscribe: false` let it go, an aborted `signal`), `transport` (`long-poll` or `sse`) and `fallbackReason`, `lastSyncedAt`, the last `error` and
 * `nextRetryAt` while backing off.
 *
 * @example
 * const { shape } = useShape<Todo>(options)
 * const status = useShapeStatus(shape)
 * if (status.phase === 'retrying' && status.nextRetryAt) return <p>Offline, retrying at {new Date(status.nextRetryAt).toLocaleTimeString()}</p>
 */
export function useShapeStatus<T = Row>(shapeOrOptions: ShapeOrOptions<T> | undefined): ShapeStatus {
  return useShapeSlice(shapeOrOptions, STATUS as ShapeSlice<ShapeStatus, T>, holdOf(shapeOrOptions))
}
