/**
 * `ShapeRowList`: the rows of a shape as a keyed list of row components, grouped so that one row's update costs React
 * work proportional to √rows instead of rows.
 *
 * Why: a row component subscribed with `useShapeRow` re-renders alone, but React still visits every sibling of that
 * component on the way (it clones, begins and completes each sibling fiber, then walks them again in each commit
 * pass). In a flat list of 10,000 rows that walk, not the hooks, is most of an update's cost.
 *
 * Invariants:
 * - G1. Keys are rendered in consecutive groups of `groupSize` (default: the power of two at or above √rows, at least
 *   16, so it changes rarely as rows come and go). A group is a memoized component that returns a Fragment: no DOM of
 *   its own, so `<ul><ShapeRowList …/></ul>` keeps its `<li>`s as direct children.
 * - G2. A group keeps its keys array while its keys are unchanged (compared by content with the previous render), so
 *   a membership change re-renders the groups whose keys changed and no other.
 * - G3. Groups are keyed by position. A row that moves into another group (keys inserted or removed before it) is
 *   remounted, so its component's local state does not survive that move.
 */
import { Fragment, createElement, memo, useMemo, useRef } from 'react'
import type { ReactNode } from 'react'
import type { Row } from '../core/index'
import type { ShapeSource } from './useRetainedShape'
import { useShapeKeys } from './useShapeKeys'

const MIN_GROUP_SIZE = 16

/** Props of `ShapeRowList`. */
export interface ShapeRowListProps<T = Row> {
  /** The shape, or options describing one (as for `useShapeKeys`); `undefined` renders nothing. */
  shape: ShapeSource<T> | undefined
  /**
   * Renders the row with shape key `key`, typically a memoized component calling `useShapeRow`. Pass a stable
   * function (`useCallback`): a new one re-renders every group.
   */
  renderRow: (key: string) => ReactNode
  /** Keys per group (default: G1). */
  groupSize?: number
}

interface GroupProps {
  readonly keys: readonly string[]
  readonly renderRow: (key: string) => ReactNode
}

const Group = memo(function ShapeRowGroup({ keys, renderRow }: GroupProps): ReactNode {
  return keys.map((key) => createElement(Fragment, { key }, renderRow(key)))
})

function defaultGroupSize(rows: number): number {
  let size = MIN_GROUP_SIZE
  while (size * size < rows) size *= 2
  return size
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
}

/**
 * The shape's rows in key order, each rendered by `renderRow`, in memoized groups (G1–G3). The list re-renders on
 * membership changes only (`useShapeKeys`); a row's own change re-renders that row alone.
 *
 * @example
 * const TodoRow = memo(function TodoRow({ shape, rowKey }: { shape: Shape<Todo>; rowKey: string }) {
 *   const todo = useShapeRow(shape, rowKey)
 *   return todo ? <li>{todo.title}</li> : null
 * })
 * function TodoList({ shape }: { shape: Shape<Todo> }) {
 *   const renderRow = useCallback((key: string) => <TodoRow shape={shape} rowKey={key} />, [shape])
 *   return <ul><ShapeRowList shape={shape} renderRow={renderRow} /></ul>
 * }
 */
export function ShapeRowList<T = Row>({ shape, renderRow, groupSize }: ShapeRowListProps<T>): ReactNode {
  const keys = useShapeKeys(shape)
  const previous = useRef<readonly (readonly string[])[]>([])
  const groups = useMemo(() => {
    const size = Math.max(1, Math.floor(groupSize ?? defaultGroupSize(keys.length)))
    const next: (readonly string[])[] = []
    for (let start = 0; start < keys.length; start += size) {
      const slice = keys.slice(start, start + size)
      const before = previous.current[next.length]
      next.push(before !== undefined && sameKeys(before, slice) ? before : slice)
    }
    return next
  }, [keys, groupSize])
  previous.current = groups
  return groups.map((group, index) => createElement(Group, { key: index, keys: group, renderRow }))
}
