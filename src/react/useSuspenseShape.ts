/**
 * `useSuspenseShape`: `useShape` for components under `<Suspense>`.
 *
 * Invariants:
 * - SU1. It returns only after the shape's first up-to-date: `isLoading` is always `false` in what it returns.
 * - SU2. A failure before any rows (400, 401/403, retries exhausted) is thrown for the nearest error boundary; later
 *   errors are in `error`, like `useShape`, so rows on screen stay.
 * - Under a `StreamedHydration`, the streamed states are drained before the shape is looked up (so a hydrating
 *   component finds its shape seeded and never suspends), and on the server what it rendered is captured for the
 *   stream once it returns (StreamedHydration.tsx).
 */
import { useContext } from 'react'
import type { Row } from '../core/index'
import type { UseShapeResult } from './shapeResult'
import type { UseShapeOptions } from './useShape'
import { useShapeValue } from './useShape'
import { StreamedHydrationContext } from './StreamedHydration'

/**
 * Options of `useSuspenseShape`: those of `useShape` without `enabled` (a suspended hook always runs).
 * @example
 * const options: UseSuspenseShapeOptions<Todo> = { url: '/v1/shape', params: { table: 'todos' } }
 */
export type UseSuspenseShapeOptions<T = Row, S = UseShapeResult<T>> = Omit<UseShapeOptions<T, S>, 'enabled'>

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
export function useSuspenseShape<T = Row, S = UseShapeResult<T>>(options: UseSuspenseShapeOptions<T, S>): S {
  const streamed = useContext(StreamedHydrationContext)
  streamed?.drain()
  const value = useShapeValue<T, S>({ ...options, enabled: true }, true)
  streamed?.captureRendered()
  return value
}
