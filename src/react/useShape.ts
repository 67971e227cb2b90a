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
 *   A disabled render (`enabled: false`) shows nothing and so forgets what was shown: rows from before it never
 *   come back as placeholder (with `enabled: userId !== undefined`, the next user would see the last user's rows).
 *   Nor do another client's rows: a new client (one per user, or after `resetDefaultShapeClient`) is a new cache.
 * - A `selector` or `isEqual` that is not a function is an `InvalidOptionsError` naming it, thrown during render
 *   before any shape is registered.
 * - In suspense mode the hook never returns before the shape's first up-to-date (see `suspendOnShape`).
 * - One subscription per hook: whether the shape has settled (placeholder or not) is read from the result itself,
 *   and with a selector it travels in the selection next to the selected value, so settling re-renders the
 *   component even when the selected value did not change.
 */
import { useContext, useEffect, useMemo, useRef } from 'react'
import { useSyncExternalStoreWithSelector } from 'use-sync-external-store/with-selector'
import { invalidOption } from '../core/internal'
import type { Row, Shape, ShapeClient } from '../core/index'
import { createShapeResultStore, DISABLED_RESULT_STORE } from './shapeResult'
import type { ShapeResultStore, UseShapeResult } from './shapeResult'
import { selectorInput } from './selectorInput'
import type { Writable } from './selectorInput'
import { suspendOnShape } from './suspendOnShape'
import { warnUnstableSelector } from './warnUnstableSelector'
import type { ShapeHookOptions, ShapeOrOptions } from './useRetainedShape'
import { isShape, useRetainedShape } from './useRetainedShape'
import { ShapeClientContext } from './ShapeClientProvider'
import { resolveShapeClient } from './useShapeClient'

/**
 * Options of `useShape`: the shape (`url`, `params: { table, where, params, columns, replica }`, `headers`,
 * `liveSse`, `parser`, `columnMapper`, `onError`…), plus `enabled`, `signal`, `subscribe`, and a selector.
 * Options are compared by value between renders, so an inline object is fine, inline functions included: a new
 * header, param, `parser`, `transformer` or column mapper function keeps the shape, and the next request, parse or
 * row calls the latest render's function (see core/functionForwarders.ts).
 * @example
 * const options: UseShapeOptions<Todo, number> = { url: '/v1/shape', params: { table: 'todos' }, selector: (r) => r.data.length }
 */
export interface UseShapeOptions<T = Row, S = UseShapeResult<T>> extends ShapeHookOptions<T> {
  /**
   * Picks what the component needs; the component re-renders only when that changed (per `isEqual`). It receives
   * its own writable copy of the result (see `selectorInput.ts`), so it may edit it and return it, as selectors
   * written for `@electric-sql/react` do.
   */
  selector?: ((result: Writable<UseShapeResult<T>>) => S) | undefined
  /** Compares two selections (default `Object.is`); `shallow` suits selectors returning new arrays or objects. */
  isEqual?: ((a: S, b: S) => boolean) | undefined
}

function identity<V>(value: V): V {
  return value
}

interface Shown<S> {
  readonly shape: Shape<unknown>
  readonly client: ShapeClient | undefined
  readonly value: S
}

/** What a user selector's run gives the external store: the selected value and whether the shape had settled. */
interface Selection<S> {
  readonly value: S
  readonly settled: boolean
}

/** The shared body of `useShape` and `useSuspenseShape`. */
export function useShapeValue<T, S>(options: UseShapeOptions<T, S> | undefined, suspense: boolean): S {
  // Before the shape is made, so a bad selector registers nothing with the client.
  checkFunction('selector', options?.selector)
  checkFunction('isEqual', options?.isEqual)
  const shape = useRetainedShape(options)
  const provided = useContext(ShapeClientContext)
  // The client useRetainedShape made the shape with; none is needed while disabled, or for a `Shape` given as is.
  const client = shape === undefined || isShape(options as ShapeOrOptions<T>) ? provided : resolveShapeClient(provided)
  if (suspense && shape !== undefined) suspendOnShape(shape)
  const store = useMemo<ShapeResultStore<T>>(
    () => (shape === undefined ? (DISABLED_RESULT_STORE as unknown as ShapeResultStore<T>) : createShapeResultStore(shape, suspense)),
    [shape, suspense],
  )
  const userSelector = options?.selector
  const userIsEqual = options?.isEqual
  const { selector, isEqual } = useMemo(() => selection<T, S>(userSelector, userIsEqual), [userSelector, userIsEqual])
  const selected = useSyncExternalStoreWithSelector(
    store.subscribe,
    store.getSnapshot,
    store.getServerSnapshot,
    selector,
    isEqual,
  )
  const value = userSelector === undefined ? (selected as S) : (selected as Selection<S>).value
  const settled = userSelector === undefined ? isSettled(selected as UseShapeResult<T>) : (selected as Selection<S>).settled

  const checkedShape = useRef<Shape<T> | undefined>(undefined)
  useEffect(() => {
    if (userSelector === undefined || shape === undefined || checkedShape.current === shape) return
    checkedShape.current = shape
    warnUnstableSelector(userSelector, () => selectorInput(store.getSnapshot()), userIsEqual)
  }, [userSelector, userIsEqual, shape, store])

  const shown = useRef<Shown<S> | undefined>(undefined)
  const previous = shown.current
  const placeholder =
    !settled && shape !== undefined && previous !== undefined && previous.shape !== shape && previous.client === client
  useEffect(() => {
    if (shape === undefined) shown.current = undefined
    else if (!placeholder) shown.current = { shape: shape as Shape<unknown>, client, value }
  }, [placeholder, shape, client, value])
  const placeholderValue = useMemo(
    () => (placeholder && previous !== undefined ? asPlaceholder(previous.value, userSelector === undefined) : undefined),
    [placeholder, previous, userSelector],
  )
  return placeholder ? (placeholderValue as S) : value
}

/**
 * The selector and equality the external store runs. Without a user selector the result is the selection (it says
 * itself whether the shape settled); with one, the selection is `{ value, settled }`, equal when both are.
 */
function selection<T, S>(
  userSelector: UseShapeOptions<T, S>['selector'],
  userIsEqual: UseShapeOptions<T, S>['isEqual'],
): { selector: (result: UseShapeResult<T>) => unknown; isEqual: ((a: unknown, b: unknown) => boolean) | undefined } {
  if (userSelector === undefined) {
    if (userIsEqual === undefined) return { selector: identity, isEqual: undefined }
    const equal = userIsEqual as unknown as (a: UseShapeResult<T>, b: UseShapeResult<T>) => boolean
    return {
      selector: identity,
      isEqual: (a, b) => isSettled(a as UseShapeResult<T>) === isSettled(b as UseShapeResult<T>) && equal(a as UseShapeResult<T>, b as UseShapeResult<T>),
    }
  }
  const equal = userIsEqual ?? Object.is
  return {
    selector: (result): Selection<S> => ({ value: userSelector(selectorInput(result)), settled: isSettled(result) }),
    isEqual: (a, b) => (a as Selection<S>).settled === (b as Selection<S>).settled && equal((a as Selection<S>).value, (b as Selection<S>).value),
  }
}

/** A `selector` or `isEqual` that is not a function fails here, by name, not later inside the external store. */
function checkFunction(name: 'selector' | 'isEqual', value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(`useShape option "${name}"`, 'a function', value)
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
