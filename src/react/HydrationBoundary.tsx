/**
 * Puts a server's dehydrated shapes into the provider's client, so the components below render the server's rows on
 * their first render (on the server and when hydrating) and then continue live from the server's offset.
 *
 * Invariants:
 * - Shapes the client does not have are hydrated during render, before any child renders: the children's
 *   `getSnapshot` and `getServerSnapshot` both see the hydrated rows, so hydration matches the server's HTML.
 * - Shapes the client already has are hydrated in an effect, never during render: seeding them notifies
 *   components that may already show them, which React forbids during another component's render. Core keeps the
 *   newer data and leaves running streams alone (hydration.ts).
 * - Hydration runs again only for a new `state` object (or client); a re-render with the same state does
 *   nothing. StrictMode's repeated render finds the shapes created by the first and leaves them to the effect,
 *   where core finds nothing newer to do.
 */
import { useEffect, useMemo } from 'react'
import type { ReactNode } from 'react'
import { hydrate } from '../core/index'
import type { DehydratedState, HydrateOptions } from '../core/index'
import { useShapeClient } from './useShapeClient'

/**
 * Props of `HydrationBoundary`.
 * @example
 * const props: HydrationBoundaryProps = { state: dehydratedState, children: <Todos /> }
 */
export interface HydrationBoundaryProps {
  /** What `dehydrate` (or `dehydrateShapes`) returned on the server; `undefined` or `null` hydrates nothing. */
  state: DehydratedState | null | undefined
  /**
   * `deserializeValue`, and `shapeOptions` to re-attach headers, parser, columnMapper or transformer (by identity,
   * the same ones the components pass) to the dehydrated shapes. Read when `state` changes.
   */
  options?: Omit<HydrateOptions, 'only'>
  children?: ReactNode
}

/**
 * Hydrates `state` into the client of the nearest `ShapeClientProvider`: new shapes during render, shapes the
 * client already has in an effect, again only for a new `state`.
 *
 * On a server, create one `ShapeClient` per request, never in module state: a shared client would serve one user's
 * rows to another. In a Next.js app router, a client component holding the provider does that with
 * `useState(() => new ShapeClient())` (a fresh render per request on the server, one client per tab in the browser).
 *
 * It is a client component: render it from a `'use client'` file. A Next.js server component imports only
 * `live-shapes/core` (the React entry needs client React) and passes the state down as a prop.
 *
 * @example
 * // app/todos/page.tsx (a server component)
 * import { dehydrateShapes } from 'live-shapes/core'
 * export default async function Page() {
 *   return <TodosApp state={await dehydrateShapes([{ url: SHAPE_URL, params: { table: 'todos' } }])} />
 * }
 *
 * // app/todos/TodosApp.tsx
 * 'use client'
 * export function TodosApp({ state }: { state: DehydratedState }) {
 *   const [client] = useState(() => new ShapeClient())
 *   return (
 *     <ShapeClientProvider client={client}>
 *       <HydrationBoundary state={state}><Todos /></HydrationBoundary>
 *     </ShapeClientProvider>
 *   )
 * }
 */
export function HydrationBoundary({ state, options, children }: HydrationBoundaryProps): ReactNode {
  const client = useShapeClient()

  // `options` is read with the state it belongs to, not a reason to hydrate again (an inline object is fine).
  useMemo(() => {
    if (state) hydrate(client, state, { ...options, only: 'new' })
  }, [client, state])

  useEffect(() => {
    if (state) hydrate(client, state, { ...options, only: 'all' })
  }, [client, state])

  return children
}
