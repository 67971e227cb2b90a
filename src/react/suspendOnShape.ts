/**
 * Suspense for shapes: throw a promise until the first up-to-date, throw the error for an error boundary.
 *
 * Invariants:
 * - A suspended component has not mounted, so no effect holds its stream: the pending suspension holds one
 *   retain of its own, released when the shape is up to date or failed. The component's effect takes over within
 *   the client's grace period, so the stream is not reopened.
 * - One pending suspension per shape, whatever the number of components or render attempts, so retried renders
 *   never accumulate retains. Kept in a `WeakMap` keyed by the shape: nothing outlives the shape.
 * - A shape that has no rows and a stopped stream (a non-retryable error) throws that error, for the nearest
 *   error boundary; rows already shown are never replaced by an error.
 */
import type { Shape } from '../core/index'

interface Pending {
  readonly promise: Promise<void>
  error: unknown
  failed: boolean
}

const pendingByShape = new WeakMap<Shape<unknown>, Pending>()

/**
 * Returns when `shape` has published its first up-to-date; otherwise throws the shape's one pending promise (which
 * holds a retain of its own), or the shape's error when it has no rows and a stopped stream.
 * @example
 * suspendOnShape(shape) // inside a component under <Suspense>
 */
export function suspendOnShape<T>(shape: Shape<T>): void {
  if (shape.getSnapshot().isUpToDate) return
  const key = shape as Shape<unknown>
  const error = shape.getStatus().error
  if (error !== undefined && !error.retryable) throw error
  const pending = pendingByShape.get(key)
  if (pending !== undefined) {
    if (!pending.failed) throw pending.promise
    pendingByShape.delete(key)
    throw pending.error
  }
  const release = shape.retain()
  const entry: Pending = {
    promise: shape.whenUpToDate().then(
      () => {
        pendingByShape.delete(key)
        release()
      },
      (reason: unknown) => {
        entry.failed = true
        entry.error = reason
        release()
      },
    ),
    error: undefined,
    failed: false,
  }
  pendingByShape.set(key, entry)
  throw entry.promise
}
