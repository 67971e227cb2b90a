/**
 * `ShapeRowList`: the rows of a shape as a keyed list of row components, inside a tree of memoized groups so that one
 * membership change costs React work proportional to log(rows) instead of rows.
 *
 * Why a tree, not a flat list of groups: a row component subscribed with `useShapeRow` re-renders alone, but React
 * still visits every child of each fiber it passes on the way (it clones them, and when completing a fiber it loops
 * over all its children to merge their flags). A flat list of √n groups therefore still loops over every row on each
 * update; nesting the groups `FAN_OUT` wide bounds each loop by `FAN_OUT` and the path by the tree's depth.
 *
 * Invariants:
 * - Keys are cut into consecutive leaves of `groupSize` keys (default 16). A branch at height h covers the
 *   `FAN_OUT`^h consecutive leaves starting at a multiple of `FAN_OUT`^h. Boundaries depend on positions only, so an
 *   append changes the last leaf and its ancestors and no other node.
 * - Every group (leaf or branch) is a memoized component that returns a Fragment: no DOM of its own, so
 *   `<ul><ShapeRowList …/></ul>` keeps its `<li>`s as direct children, in key order.
 * - A node keeps its object identity while it covers the same keys (a leaf: same keys by content; a branch: the
 *   same child objects) as in the last committed tree, so a membership change re-renders exactly the nodes whose
 *   keys changed: the path from the root to each changed leaf.
 * - Nodes are keyed by position. A row that moves into another leaf (keys inserted or removed before it) is
 *   remounted, so its component's local state does not survive that move; so is every row when the tree's height
 *   changes (the leaf count crossing a power of `FAN_OUT`), since React cannot move fibers to a new parent.
 */
import { Fragment, createElement, memo, useEffect, useMemo, useRef } from 'react'
import type { ReactNode } from 'react'
import type { Row } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { sameIterableOrder } from '../core/internal'
import { useShapeKeys } from './useShapeKeys'

const DEFAULT_LEAF_SIZE = 16
const FAN_OUT = 16

/**
 * Props of `ShapeRowList`.
 * @example
 * const props: ShapeRowListProps<Todo> = { shape, renderRow: (key) => <TodoRow key={key} shape={shape} rowKey={key} /> }
 */
export interface ShapeRowListProps<T = Row> {
  /** The shape, or options describing one (as for `useShapeKeys`); `undefined` renders nothing. */
  shape: ShapeOrOptions<T> | undefined
  /**
   * Renders the row with shape key `key`, typically a memoized component calling `useShapeRow`. Pass a stable
   * function (`useCallback`): a new one re-renders every group.
   */
  renderRow: (key: string) => ReactNode
  /** Keys per leaf group, the lowest level of the tree (default 16). Groups above it hold 16 children each. */
  groupSize?: number
  /**
   * Diagnostics: called each time a group renders, with its height (0 for a leaf) and its index at that height.
   * Pass a stable function: a new one re-renders every group.
   */
  onGroupRender?: (group: ShapeRowGroupInfo) => void
}

/**
 * Which group rendered, as reported to `ShapeRowListProps.onGroupRender`.
 * @example
 * <ShapeRowList shape={shape} renderRow={renderRow} onGroupRender={(group: ShapeRowGroupInfo) => console.log(group)} />
 */
export interface ShapeRowGroupInfo {
  /** 0 for a leaf (renders rows), h for a branch whose descendants are h levels deep. */
  readonly height: number
  /** Position of the group among the groups of its height, from 0. */
  readonly index: number
}

type GroupNode =
  | { readonly kind: 'leaf'; readonly height: 0; readonly index: number; readonly keys: readonly string[] }
  | { readonly kind: 'branch'; readonly height: number; readonly index: number; readonly children: readonly GroupNode[] }

interface GroupProps {
  readonly node: GroupNode
  readonly renderRow: (key: string) => ReactNode
  readonly onGroupRender: ((group: ShapeRowGroupInfo) => void) | undefined
}

const Group = memo(function ShapeRowGroup({ node, renderRow, onGroupRender }: GroupProps): ReactNode {
  onGroupRender?.({ height: node.height, index: node.index })
  if (node.kind === 'leaf') return node.keys.map((key) => createElement(Fragment, { key }, renderRow(key)))
  return node.children.map((child, position) =>
    createElement(Group, { key: position, node: child, renderRow, onGroupRender }),
  )
})

/** The tree's levels, leaves first, each node reused from `previous` at the same height and index when unchanged. */
function buildLevels(
  keys: readonly string[],
  leafSize: number,
  previous: readonly (readonly GroupNode[])[],
): GroupNode[][] {
  const leaves: GroupNode[] = []
  for (let start = 0; start < keys.length; start += leafSize) {
    const slice = keys.slice(start, start + leafSize)
    const index = leaves.length
    const before = previous[0]?.[index]
    leaves.push(before?.kind === 'leaf' && sameIterableOrder(before.keys, slice) ? before : { kind: 'leaf', height: 0, index, keys: slice })
  }
  const levels: GroupNode[][] = [leaves]
  let below = leaves
  while (below.length > 1) {
    const height = levels.length
    const level: GroupNode[] = []
    for (let start = 0; start < below.length; start += FAN_OUT) {
      const children = below.slice(start, start + FAN_OUT)
      const index = level.length
      const before = previous[height]?.[index]
      level.push(
        before?.kind === 'branch' && sameIterableOrder(before.children, children)
          ? before
          : { kind: 'branch', height, index, children },
      )
    }
    levels.push(level)
    below = level
  }
  return levels
}

/**
 * The shape's rows in key order, each rendered by `renderRow`, in a tree of memoized groups. The list
 * re-renders on membership changes only (`useShapeKeys`), and then only the groups on the path to each change; a
 * row's own change re-renders that row alone.
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
export function ShapeRowList<T = Row>({ shape, renderRow, groupSize, onGroupRender }: ShapeRowListProps<T>): ReactNode {
  const keys = useShapeKeys(shape)
  const previous = useRef<readonly (readonly GroupNode[])[]>([])
  const levels = useMemo(() => {
    const leafSize = Math.max(1, Math.floor(groupSize ?? DEFAULT_LEAF_SIZE))
    return buildLevels(keys, leafSize, previous.current)
  }, [keys, groupSize])
  // Only a committed tree is reused: a render React abandons leaves nothing behind. React runs pending effects before
  // it renders the next update, so the next membership change still starts from this tree.
  useEffect(() => {
    previous.current = levels
  }, [levels])
  const root = levels[levels.length - 1]?.[0]
  if (root === undefined) return null
  // Keyed by height: a height change moves every row under a new parent anyway, so say so to React.
  return createElement(Group, { key: root.height, node: root, renderRow, onGroupRender })
}
