/**
 * The shared body of `useShapeRow`, `useShapeKeys` and `useShapeStatus`: hold the shape (`useRetainedShape`),
 * subscribe to one part of it, read that part.
 *
 * Invariants:
 * - `subscribe` and `getSnapshot` change only when the shape or the slice's argument (a row key) changes, so a
 *   re-render never subscribes again; the part's own subscription decides which changes re-render the component
 *   (a row's key, the membership of the keys, the status object).
 * - `getServerSnapshot` reads the part from the shape's server view (core/shapeView.ts: the shape before a seed
 *   from storage, which a server does not have; the rows a server's state seeded; otherwise the shape itself), as
 *   of its first read for the life of the shape and argument (see `firstValue`), so hydration renders exactly what
 *   the server rendered.
 * - While disabled (no shape) the hook returns the slice's `disabled` value and subscribes to nothing.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import type { Shape } from '../core/index'
import { SERVER_VIEW } from '../core/internal'
import type { ShapeView } from '../core/internal'
import { firstValue } from './firstValue'
import { noop } from './noop'
import type { ShapeOrOptions } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

/**
 * One observable part of a shape: how to subscribe to it and read it, given the hook's argument (a row key, or `''`).
 * Define slices at module level so their functions never change.
 * @example
 * const STATUS: ShapeSlice<ShapeStatus> = { subscribe: (shape, _, l) => shape.subscribeStatus(l), read: (shape) => shape.getStatus(), disabled: IDLE_STATUS }
 */
export interface ShapeSlice<V, T = unknown> {
  subscribe(shape: Shape<T>, argument: string, listener: () => void): () => void
  /** Reads the part from the shape, or from its server view. */
  read(shape: ShapeView<T>, argument: string): V
  /** What the hook returns while disabled. */
  readonly disabled: V
  /**
   * What a server render shows and hydration first renders, when that differs from `read` (a status: the server's
   * own stream ran, the browser's is about to start); default `read`.
   */
  readServer?(shape: ShapeView<T>, argument: string): V
}

/**
 * The value of `slice` for the shape `shapeOrOptions` resolves to, kept current.
 * @example
 * return useShapeSlice(shapeOrOptions, ROW as ShapeSlice<T | undefined, T>, key)
 */
export function useShapeSlice<V, T>(shapeOrOptions: ShapeOrOptions<T> | undefined, slice: ShapeSlice<V, T>, argument: string): V {
  const shape = useRetainedShape(shapeOrOptions)
  const subscribe = useCallback(
    (listener: () => void) => (shape === undefined ? noop : slice.subscribe(shape, argument, listener)),
    [shape, slice, argument],
  )
  const getSnapshot = useCallback(() => (shape === undefined ? slice.disabled : slice.read(shape, argument)), [shape, slice, argument])
  const getServerSnapshot = useMemo(() => {
    if (shape === undefined) return firstValue(getSnapshot)
    const readServer = slice.readServer ?? slice.read
    return firstValue(() => readServer(shape[SERVER_VIEW](), argument))
  }, [getSnapshot, shape, slice, argument])
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)
}
