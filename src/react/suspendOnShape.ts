/**
 * Suspense for shapes: throw a promise until the first up-to-date, throw the error for an error boundary.
 *
 * Invariants:
 * - A suspended component has not mounted, so no effect holds its stream: the pending suspension holds one
 *   retain of its own, released when the shape is up to date or failed. The component's effect takes over within
 *   the client's grace period, so the stream is not reopened.
 * - A suspension lasts at most until the stream's next failure: a new error in the status ends it (its retain is
 *   released and its promise resolves), so React renders a still-suspended component again, which suspends anew with
 *   a retain of its own within the grace period. A component that unmounted while suspended renders no more, so a
 *   stream that keeps failing (503s, an unreachable server) closes after its next failure and the grace period
 *   instead of retrying for ever for a component that is gone (React tells a suspended component nothing).
 * - One pending suspension per shape, whatever the number of components or render attempts, so retried renders
 *   never accumulate retains. Kept in a `WeakMap` keyed by the shape: nothing outlives the shape.
 * - A shape that has no rows and a stopped stream (a non-retryable error) throws that error, for the nearest
 *   error boundary; rows already shown are never replaced by an error.
 */
import type { Shape } from '../core/index'
import { noop } from './noop'

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
  const startError = shape.getStatus().error
  let wake: () => void = noop
  const entry: Pending = { promise: new Promise<void>((resolve) => (wake = resolve)), error: undefined, failed: false }
  let ended = false
  const end = (failure?: { reason: unknown }): void => {
    if (ended) return
    ended = true
    stopWatching()
    if (failure === undefined) {
      if (pendingByShape.get(key) === entry) pendingByShape.delete(key)
    } else {
      entry.failed = true
      entry.error = failure.reason
    }
    release()
    wake()
  }
  const stopWatching = shape.subscribeStatus(() => {
    const { error: now } = shape.getStatus()
    if (now !== undefined && now !== startError && now.retryable) end()
  })
  shape.whenUpToDate().then(
    () => end(),
    (reason: unknown) => end({ reason }),
  )
  pendingByShape.set(key, entry)
  throw entry.promise
}
