/**
 * `useShapeKeys`: the keys of a shape's rows, for a list of memoized row components.
 *
 * Invariant:
 * - K1. The keys array keeps its identity while the shape's membership is unchanged (store rule), so the list
 *   component re-renders when a row is added, removed or the shape is refetched, never when a row only changes.
 *   Each row component reads its row with `useShapeRow`; together, one changed row re-renders one row component.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import type { Row } from '../core/index'
import { firstValue } from './firstValue'
import type { ShapeSource } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

const NO_KEYS: readonly string[] = Object.freeze([])

function noop(): void {}

/**
 * The shape keys of the rows, in insertion order; empty until the first up-to-date and while disabled.
 *
 * @example
 * function TodoList({ shape }: { shape: Shape<Todo> }) {
 *   const keys = useShapeKeys(shape)
 *   return <ul>{keys.map((key) => <TodoRow key={key} shape={shape} rowKey={key} />)}</ul>
 * }
 */
export function useShapeKeys<T = Row>(source: ShapeSource<T> | undefined): readonly string[] {
  const shape = useRetainedShape(source)
  const subscribe = useCallback((listener: () => void) => (shape === undefined ? noop : shape.subscribe(listener)), [shape])
  const getSnapshot = useCallback(() => (shape === undefined ? NO_KEYS : shape.getSnapshot().keys), [shape])
  const getServerSnapshot = useMemo(() => firstValue(getSnapshot), [getSnapshot])
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)
}
