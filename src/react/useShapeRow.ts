/**
 * `useShapeRow`: one row of a shape, for a row component.
 *
 * Invariant:
 * - W1. The component subscribes to its key only (`subscribeKey`): it re-renders when that row's identity changes
 *   and for nothing else, so a change to one row re-renders one row component whatever the shape's size.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import type { Row } from '../core/index'
import { firstValue } from './firstValue'
import type { ShapeSource } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

function noop(): void {}

/**
 * The row with shape key `key`, or `undefined` when the shape has no such row (yet, or any more).
 *
 * @example
 * const TodoRow = memo(function TodoRow({ shape, rowKey }: { shape: Shape<Todo>; rowKey: string }) {
 *   const todo = useShapeRow(shape, rowKey)
 *   return todo ? <li>{todo.title}</li> : null
 * })
 */
export function useShapeRow<T = Row>(source: ShapeSource<T> | undefined, key: string): T | undefined {
  const shape = useRetainedShape(source)
  const subscribe = useCallback(
    (listener: () => void) => (shape === undefined ? noop : shape.subscribeKey(key, listener)),
    [shape, key],
  )
  const getSnapshot = useCallback(() => shape?.getRow(key), [shape, key])
  const getServerSnapshot = useMemo(() => firstValue(getSnapshot), [getSnapshot])
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)
}
