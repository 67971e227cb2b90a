/**
 * `useShapeRow`: one row of a shape, for a row component.
 *
 * Invariant:
 * - The component subscribes to its key only (`subscribeKey`): it re-renders when that row's identity changes
 *   and for nothing else, so a change to one row re-renders one row component whatever the shape's size.
 */
import type { Row } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useShapeSlice } from './useShapeSlice'
import type { ShapeSlice } from './useShapeSlice'

const ROW: ShapeSlice<unknown> = {
  subscribe: (shape, key, listener) => shape.subscribeKey(key, listener),
  read: (shape, key) => shape.getRow(key),
  disabled: undefined,
}

/**
 * The row with shape key `key`, or `undefined` when the shape has no such row (yet, or any more).
 *
 * @example
 * const TodoRow = memo(function TodoRow({ shape, rowKey }: { shape: Shape<Todo>; rowKey: string }) {
 *   const todo = useShapeRow(shape, rowKey)
 *   return todo ? <li>{todo.title}</li> : null
 * })
 */
export function useShapeRow<T = Row>(shapeOrOptions: ShapeOrOptions<T> | undefined, key: string): T | undefined {
  return useShapeSlice(shapeOrOptions, ROW as ShapeSlice<T | undefined, T>, key)
}
