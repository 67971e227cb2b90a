/**
 * `useShapeRowPending`: whether an optimistic write to one row is still waiting for the stream to confirm it.
 *
 * Invariant: like `useShapeRow`, it subscribes to its key only, and the shape notifies a key's listeners whenever a
 * write touching that key is applied, confirmed or rolled back, so a row component re-renders when its own
 * pending state flips and for nothing else.
 */
import type { Row } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useShapeSlice } from './useShapeSlice'
import type { ShapeSlice } from './useShapeSlice'

const PENDING: ShapeSlice<boolean> = {
  subscribe: (shape, key, listener) => shape.subscribeKey(key, listener),
  read: (shape, key) => shape.isPending(key),
  // A server has no pending writes, and hydration must render what it rendered.
  readServer: () => false,
  disabled: false,
}

/**
 * True while a write made with `shape.mutate` / `useShapeMutation` touching the row of `key` is pending (shown but
 * not yet confirmed by the stream): render the row as "saving". Always false on the server.
 *
 * @example
 * const TodoRow = memo(function TodoRow({ shape, rowKey }: { shape: Shape<Todo>; rowKey: string }) {
 *   const todo = useShapeRow(shape, rowKey)
 *   const saving = useShapeRowPending(shape, rowKey)
 *   return todo ? <li style={{ opacity: saving ? 0.5 : 1 }}>{todo.title}</li> : null
 * })
 */
export function useShapeRowPending<T = Row>(shapeOrOptions: ShapeOrOptions<T> | undefined, key: string): boolean {
  return useShapeSlice(shapeOrOptions, PENDING as ShapeSlice<boolean, T>, key)
}
