/**
 * `useShape`: the rows of a live shape, as `@electric-sql/react`'s hook of the same name gives them.
 *
 * Invariants:
 * - `subscribe` is stable per shape (the result store is memoized on the shape), so a re-render, an inline
 *   selector or an inline options object never subscribes again.
 * - The selector and `isEqual` go to `useSyncExternalStoreWithSelector` as given: it runs the selector again
 *   when it or the snapshot changed (so a selector closing over props stays correct) and keeps the previous selection
 *   when `isEqual` says it is equal, so the component re-renders only when the selected value changed.
 * - While a changed definition has not reached its first up-to-date, the hook keeps returning what it showed for
 *   the previous definition (`isPlaceholderData: true`) instead of an empty list; an error on the new shape ends it.
 * - In suspense mode the hook never returns before the shape's first up-to-date (see `suspendOnShape`).
 */
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { useSyncExternalStoreWithSelector } from 'use-sync-external-store/with-selector'
import type { Row, Shape } from '../core/index'
import { createShapeResultStore, DISABLED_RESULT_STORE } from './shapeResult'
import type { ShapeResultStore, UseShapeResult } from './shapeResult'
import { selectorInput } from './selectorInput'
import type { Writable } from './selectorInput'
import { suspendOnShape } from './suspendOnShape'
import { warnUnstableSelector } from './warnUnstableSelector'
import type { ShapeHookOptions } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

/**
 * Options of `useShape`: the shape (`url`, `params: { table, where, params, columns, replica }`, `headers`,
 * `liveSse`, `parser`, `columnMapper`, `onError`…), plus `enabled`, `signal`, `subscribe`, and a selector.
 * Options are compared by value between renders (functions by identity), so an inline object is fine; hoist
 * function-valued `headers`, `parser` or `columnMapper`, or each new function makes a new shape.
 * @example
 * const options: UseShapeOptions<Todo, number> = { url: '/v1/shape', params: { table: 'todos' }, selector: (r) => r.data.length }
 */
export interface UseShapeOptions<T = Row, S = UseShapeResult<T>> extends ShapeHookOptions<T> {
  /**
   * Picks what the component needs; the component re-renders only when that changed (per `isEqual`). It receives
   * its own writable copy of the result (see `selectorInput.ts`), so it may edit it and return it, as selectors
   * written for `@electric-sql/react` do.
   */
  selector?: (result: Writable<UseShapeResult<T>>) => S
  /** Compares two selections (default `Object.is`); `shallow` suits selectors returning new arrays or objects. */
  isEqual?: (a: S, b: S) => boolean
}

function identity<V>(value: V): V {
  return value
}

interface Shown<S> {
  readonly shape: Shape<unknown>
  readonly value: S
}

/** The shared body of `useShape` and `useSuspenseShape`. */
export function useShapeValue<T, S>(options: UseShapeOptions<T, S> | undefined, suspense: boolean): S {
  const shape = useRetainedShape(options)
  if (suspense && shape !== undefined) suspendOnShape(shape)
  const store = useMemo<ShapeResultStore<T>>(
    () => (shape === undefined ? (DISABLED_RESULT_STORE as unknown as ShapeResultStore<T>) : createShapeResultStore(shape)),
    [shape],
  )
  const userSelector = options?.selector
  const selector = useMemo(
    () =>
      userSelector === undefined
        ? (identity as (result: UseShapeResult<T>) => S)
        : (result: UseShapeResult<T>): S => userSelector(selectorInput(result)),
    [userSelector],
  )
  const selected = useSyncExternalStoreWithSelector(
    store.subscribe,
    store.getSnapshot,
    store.getServerSnapshot,
    selector,
    options?.isEqual,
  )
  const settled = useSyncExternalStore(
    store.subscribe,
    () => isSettled(store.getSnapshot()),
    () => isSettled(store.getServerSnapshot()),
  )

  const checkedShape = useRef<Shape<T> | undefined>(undefined)
  useEffect(() => {
    if (userSelector === undefined || shape === undefined || checkedShape.current === shape) return
    checkedShape.current = shape
    warnUnstableSelector(userSelector, () => selectorInput(store.getSnapshot()), options?.isEqual)
  })

  const shown = useRef<Shown<S> | undefined>(undefined)
  const previous = shown.current
  const placeholder = !settled && shape !== undefined && previous !== undefined && previous.shape !== shape
  useEffect(() => {
    if (!placeholder && shape !== undefined) shown.current = { shape: shape as Shape<unknown>, value: selected }
  })
  const placeholderValue = useMemo(
    () => (placeholder && previous !== undefined ? asPlaceholder(previous.value, options?.selector === undefined) : undefined),
    [placeholder, previous, options?.selector],
  )
  return placeholder ? (placeholderValue as S) : selected
}

function isSettled<T>(result: UseShapeResult<T>): boolean {
  return !result.isLoading || result.isError
}

/**
 * The previous result marked as placeholder; its lazy `data`/`rows` getters are copied, not read (see shapeResult.ts:
 * `data` and `rows` are read lazily).
 */
function asPlaceholder<S>(value: S, isDefaultResult: boolean): S {
  if (!isDefaultResult) return value
  const descriptors = Object.getOwnPropertyDescriptors(value as object)
  const copy = Object.defineProperties({}, { ...descriptors, isPlaceholderData: { value: true, enumerable: true } })
  return Object.freeze(copy) as S
}

/**
 * Subscribes the component to a live shape and returns its rows and state.
 *
 * Takes the same options as `@electric-sql/react`'s `useShape` and returns the same fields with the same
 * conventions (`data`, `isLoading`, `isError`, `error` that is `false` when there is none, `lastSyncedAt`), plus
 * `rows` by key, `isUpToDate`, `isPlaceholderData` and `shape`. Components using equal options share one stream; the
 * last one to unmount closes it after the client's grace period. When the options change, the previous rows stay on
 * screen until the new shape is up to date.
 *
 * @example
 * function Todos({ done }: { done: boolean }) {
 *   const { data, isLoading, error } = useShape<Todo>({
 *     url: '/v1/shape',
 *     params: { table: 'todos', where: 'done = $1', params: [String(done)] },
 *   })
 *   if (error) return <p>{error.message}</p>
 *   if (isLoading) return <Spinner />
 *   return <TodoList todos={data} />
 * }
 *
 * @example
 * // Re-renders only when the count changes.
 * const openCount = useShape<Todo, number>({ url, params: { table: 'todos' }, selector: (r) => r.data.filter((t) => !t.done).length })
 */
export function useShape<T = Row, S = UseShapeResult<T>>(options: UseShapeOptions<T, S>): S {
  return useShapeValue(options, false)
}
