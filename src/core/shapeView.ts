/**
 * What a render reads of a shape (its rows and its status), and the shape as a server render showed it.
 *
 * Invariants:
 * - A server has no persisted cache: a shape seeded from storage (src/core/persist) was rendered on the server as it
 *   was before that seed (no rows, loading, a fresh shape's status), so that is its server view, for as long as the
 *   shape lives. Hydration then renders what the server rendered, and the stored rows show right after it.
 * - Rows a shape was hydrated with (`Shape.hydrate` from a server's dehydrated state) are what the server rendered,
 *   so the shape as that seed left it is its server view, for as long as the shape lives (or until the next such
 *   seed): a part of the page that hydrates after the stream moved on (a Suspense boundary streamed or loaded later)
 *   renders the server's rows first, then the current ones. A shape never seeded is its own server view.
 * - A view never changes: it holds the snapshot and status objects of that moment, not copies.
 */
import type { ShapeSnapshot } from './shapeSnapshot'
import type { ShapeStatus } from './shapeStatus'

/**
 * The key of `Shape`'s method returning its server view (see the invariants), for the hooks' `getServerSnapshot`;
 * internal (src/core/internal.ts), not part of the public API.
 * @example
 * const getServerSnapshot = () => shape[SERVER_VIEW]().getSnapshot()
 */
export const SERVER_VIEW: unique symbol = Symbol('serverView')

/**
 * The reading side of a shape, as hooks render it: a `Shape` is one, and so is its server view.
 * @example
 * const view: ShapeView<Todo> = shape[SERVER_VIEW]()
 * view.getSnapshot().data
 */
export interface ShapeView<T> {
  getSnapshot(): ShapeSnapshot<T>
  getRow(key: string): T | undefined
  isPending(key: string): boolean
  getStatus(): ShapeStatus
}

/**
 * A view fixed at `snapshot` and `status` (a shape as it was before a cache seed).
 * @example
 * const before = frozenView(shape.getSnapshot(), shape.getStatus())
 */
export function frozenView<T>(snapshot: ShapeSnapshot<T>, status: ShapeStatus): ShapeView<T> {
  return {
    getSnapshot: () => snapshot,
    getRow: (key) => snapshot.rows.get(key),
    // A server has no pending optimistic writes.
    isPending: () => false,
    getStatus: () => status,
  }
}
