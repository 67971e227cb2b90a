/**
 * `useSuspenseShape`: `useShape` for components under `<Suspense>`.
 *
 * Invariants:
 * - SU1. It returns only after the shape's first up-to-date: `isLoading` is always `false` in what it returns.
 * - SU2. A failure before any rows (400, 401/403, retries exhausted) is thrown for the nearest error boundary; later
 *   errors are in `error`, like `useShape`, so rows on screen stay.
 * - SU3. Its options are always enabled, so its result always has a `shape`; a changed definition suspends again
 *   instead of showing the previous rows, so `isPlaceholderData` is always `false`. The result type says so.
 * - Under a `StreamedHydration`, the streamed states are drained before the shape is looked up (so a hydrating
 *   component finds its shape seeded and never suspends), and on the server what it rendered is captured for the
 *   stream once it returns (StreamedHydration.tsx).
 */
import { useContext } from 'react'
import type { Row, Shape } from '../core/index'
import type { UseShapeResult } from './shapeResult'
import type { Writable } from './selectorInput'
import type { UseShapeOptions } from './useShape'
import { useShapeValue } from './useShape'
import { StreamedHydrationContext } from './StreamedHydration'

/**
 * What `useSuspenseShape` returns without a selector (and what its selector receives): `useShape`'s result narrowed
 * to what Suspense guarantees (SU1, SU3): not loading, not a placeholder, and the shape defined.
 * @example
 * const { data, shape }: UseSuspenseShapeResult<Todo> = useSuspenseShape<Todo>({ url, params: { table: 'todos' } })
 * // data: readonly Todo[]; shape: Shape<Todo>, never undefined; isLoading: false
 */
export interface UseSuspenseShapeResult<T = Row> extends Omit<UseShapeResult<T>, 'isLoading' | 'isPlaceholderData' | 'shape'> {
  /** Always `false`: the hook suspends until the first up-to-date. */
  readonly isLoading: false
  /** Always `false`: a changed definition suspends again. */
  readonly isPlaceholderData: false
  /** The shape these rows come from; pass it to `useShapeStatus`, `useShapeRow`… */
  readonly shape: Shape<T>
}

/**
 * Options of `useSuspenseShape`: those of `useShape` without `enabled` (a suspended hook always runs); the selector
 * receives a `UseSuspenseShapeResult`.
 * @example
 * const options: UseSuspenseShapeOptions<Todo> = { url: '/v1/shape', params: { table: 'todos' } }
 */
export interface UseSuspenseShapeOptions<T = Row, S = UseSuspenseShapeResult<T>>
  extends Omit<UseShapeOptions<T, S>, 'enabled' | 'selector'> {
  /** Picks what the component needs (a writable copy it may edit and return, as `useShape`'s selector). */
  selector?: (result: Writable<UseSuspenseShapeResult<T>>) => S
}

/**
 * Suspends until the shape's first up-to-date, then behaves as `useShape`. Errors before that go to the nearest error
 * boundary. During streaming server rendering, wrap the tree in `StreamedHydration` so the rows it fetched on the
 * server reach the browser in the same stream (no refetch on hydration).
 *
 * @example
 * function Todos() {
 *   const { data } = useSuspenseShape<Todo>({ url: '/v1/shape', params: { table: 'todos' } })
 *   return <TodoList todos={data} />
 * }
 * <ErrorBoundary fallback={<p>Could not load</p>}>
 *   <Suspense fallback={<Spinner />}><Todos /></Suspense>
 * </ErrorBoundary>
 */
export function useSuspenseShape<T = Row, S = UseSuspenseShapeResult<T>>(options: UseSuspenseShapeOptions<T, S>): S {
  const streamed = useContext(StreamedHydrationContext)
  streamed?.drain()
  const value = useShapeValue<T, S>({ ...(options as UseShapeOptions<T, S>), enabled: true }, true)
  streamed?.captureRendered()
  return value
}
