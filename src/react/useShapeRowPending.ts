/**
 * `useShapeRowPending`: whether an optimistic write to one row is still waiting for the stream to confirm it.
 *
 * Invariant: like `useShapeRow`, it subscribes to its key only, and the shape notifies a key's listeners whenever a
 * write touching that key is applied, confirmed or rolled back, so a row component re-renders when its own
 * pending state flips and for nothing else.
 */
import { useCallback, useSyncExternalStore } from 'react'
import type { Row } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

function noop(): void {}
function never(): boolean {
  return false
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
  const shape = useRetainedShape(shapeOrOptions)
  const subscribe = useCallback(
    (listener: () => void) => (shape === undefined ? noop : shape.subscribeKey(key, listener)),
    [shape, key],
  )
  const getSnapshot = useCallback(() => shape?.isPending(key) ?? false, [shape, key])
  return useSyncExternalStore(subscribe, getSnapshot, never)
}
