/**
 * `useShapeKeys`: the keys of a shape's rows, for a list of memoized row components.
 *
 * Invariant:
 * - The keys array keeps its identity while the shape's membership is unchanged (store rule), so the list
 *   component re-renders when a row is added, removed or the shape is refetched, never when a row only changes.
 *   Each row component reads its row with `useShapeRow`; together, one changed row re-renders one row component.
 */
import type { Row } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useShapeSlice } from './useShapeSlice'
import type { ShapeSlice } from './useShapeSlice'

const KEYS: ShapeSlice<readonly string[]> = {
  subscribe: (shape, _, listener) => shape.subscribe(listener),
  read: (shape) => shape.getSnapshot().keys,
  disabled: Object.freeze([]),
}

/**
 * The shape keys of the rows, in insertion order; empty until the first up-to-date and while disabled.
 *
 * @example
 * function TodoList({ shape }: { shape: Shape<Todo> }) {
 *   const keys = useShapeKeys(shape)
 *   return <ul>{keys.map((key) => <TodoRow key={key} shape={shape} rowKey={key} />)}</ul>
 * }
 */
export function useShapeKeys<T = Row>(shapeOrOptions: ShapeOrOptions<T> | undefined): readonly string[] {
  return useShapeSlice(shapeOrOptions, KEYS as ShapeSlice<readonly string[], T>, '')
}
