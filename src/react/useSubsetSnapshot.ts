/**
 * `useSubsetSnapshot`: "load this page of rows into the shape", for a `log: 'changes_only'` shape that shows only
 * what the component asked for (`shape.requestSnapshot`, core/shapeSubsets.ts).
 *
 * Invariants:
 * - One request per shape and subset value: the subset is compared by value (`where`, `params`, `limit`,
 *   `offset`, `orderBy`), so an inline object does not ask again on re-render; a changed subset (the next page)
 *   asks again, and the previous request is aborted (its result is never shown).
 * - Loaded rows stay in the shape (they are the shape's rows now, kept live by its changes); the hook returns
 *   the page as loaded and whether the latest request is loading or failed. Render the rows with `useShape` (or
 *   `useShapeKeys` + `useShapeRow`) on the same options.
 * - The hook holds the stream while mounted, like every hook given options (useRetainedShape.ts: retained in an effect,
 *   released in its cleanup).
 * - A 409 empties the shape (its log was replaced), so when the shape's handle changes from one handle to
 *   another the page is requested again, from the new log.
 */
import { useEffect, useRef, useState } from 'react'
import type { Row, ShapeError, SnapshotMetadata, SubsetSnapshotRequest } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'
import { useShapeStatus } from './useShapeStatus'

/**
 * What `useSubsetSnapshot` returns: the latest page once loaded, and the state of its request.
 * @example
 * const { data, isLoading, error } = useSubsetSnapshot(todos, { orderBy: 'id', limit: 20, offset: page * 20 })
 */
export interface UseSubsetSnapshotResult<T = Row> {
  /** The rows of the latest page, as loaded; `undefined` until it is. */
  readonly data: readonly T[] | undefined
  /** The latest page's snapshot metadata; `undefined` until it is loaded. */
  readonly metadata: SnapshotMetadata | undefined
  /** True while the latest page is being requested. */
  readonly isLoading: boolean
  /** Why the latest page could not be loaded, `false` otherwise (the `useShape` convention). */
  readonly error: ShapeError | Error | false
}

interface Settled<T> {
  readonly shape: unknown
  readonly key: string
  readonly epoch: number
  readonly data?: readonly T[]
  readonly metadata?: SnapshotMetadata
  readonly error?: ShapeError | Error
}

function subsetKey(subset: SubsetSnapshotRequest): string {
  const { where, params, limit, offset, orderBy } = subset
  return JSON.stringify({ where, params, limit, offset, orderBy })
}

/**
 * Loads the page `subset` of the shape into it; `subset` `undefined` loads nothing.
 *
 * @example
 * const todos = shapeOptions<Todo>({ url, params: { table: 'todos' }, log: 'changes_only' })
 * function Page({ page }: { page: number }) {
 *   const { isLoading } = useSubsetSnapshot(todos, { orderBy: 'id', limit: 20, offset: page * 20 })
 *   const { data } = useShape(todos) // every loaded row, live
 *   return isLoading ? <Spinner /> : <TodoList todos={data} />
 * }
 */
export function useSubsetSnapshot<T = Row>(
  shapeOrOptions: ShapeOrOptions<T> | undefined,
  subset: SubsetSnapshotRequest | undefined,
): UseSubsetSnapshotResult<T> {
  const shape = useRetainedShape(shapeOrOptions)
  const key = subset === undefined ? undefined : subsetKey(subset)
  const [settled, setSettled] = useState<Settled<T> | undefined>(undefined)
  // A 409 empties the shape: a new epoch each time the handle changes from one handle to another (not from none to
  // the first).
  const handle = useShapeStatus(shape).handle
  const handles = useRef<{ shape: unknown; handle: string | undefined; epoch: number }>({ shape, handle, epoch: 0 })
  if (handles.current.shape !== shape) handles.current = { shape, handle, epoch: 0 }
  else if (handle !== undefined && handle !== handles.current.handle) {
    const epoch = handles.current.handle === undefined ? handles.current.epoch : handles.current.epoch + 1
    handles.current = { shape, handle, epoch }
  }
  const epoch = handles.current.epoch

  useEffect(() => {
    if (shape === undefined || key === undefined) return undefined
    const controller = new AbortController()
    const request = JSON.parse(key) as SubsetSnapshotRequest
    shape.requestSnapshot(request, { signal: controller.signal }).then(
      (page) => {
        if (!controller.signal.aborted) setSettled({ shape, key, epoch, data: page.data, metadata: page.metadata })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setSettled({ shape, key, epoch, error: error instanceof Error ? error : new Error(String(error)) })
      },
    )
    return () => controller.abort()
  }, [shape, key, epoch])

  const current = settled !== undefined && settled.shape === shape && settled.key === key && settled.epoch === epoch ? settled : undefined
  return {
    data: current?.data,
    metadata: current?.metadata,
    isLoading: shape !== undefined && key !== undefined && current === undefined,
    error: current?.error ?? false,
  }
}
