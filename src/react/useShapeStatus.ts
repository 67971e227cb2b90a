/**
 * `useShapeStatus`: the connection of a shape as a UI shows it.
 *
 * Invariants:
 * - The hook re-renders only when the status object changes, and the core makes a new one only when a field
 *   changed, so it never re-renders for row changes.
 * - Given options, the hook holds the stream like `useShape` does; given a `Shape`, it adds its own hold, so the
 *   status it shows is never that of a stream nobody keeps open.
 */
import { IDLE_STATUS } from '../core/internal'
import type { Row, ShapeStatus } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useShapeSlice } from './useShapeSlice'
import type { ShapeSlice } from './useShapeSlice'

const STATUS: ShapeSlice<ShapeStatus> = {
  subscribe: (shape, _, listener) => shape.subscribeStatus(listener),
  read: (shape) => shape.getStatus(),
  disabled: IDLE_STATUS,
}

/**
 * The status of a shape: `phase` (`connecting`, `syncing`, `live`, `paused`, `refetching`, `retrying`, `error`, or `idle` while
 * disabled), `transport` (`long-poll` or `sse`) and `fallbackReason`, `lastSyncedAt`, the last `error` and
 * `nextRetryAt` while backing off.
 *
 * @example
 * const { shape } = useShape<Todo>(options)
 * const status = useShapeStatus(shape)
 * if (status.phase === 'retrying' && status.nextRetryAt) return <p>Offline, retrying at {new Date(status.nextRetryAt).toLocaleTimeString()}</p>
 */
export function useShapeStatus<T = Row>(shapeOrOptions: ShapeOrOptions<T> | undefined): ShapeStatus {
  return useShapeSlice(shapeOrOptions, STATUS as ShapeSlice<ShapeStatus, T>, '')
}
