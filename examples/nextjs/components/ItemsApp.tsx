'use client'
/**
 * The client entry of the prefetched page: one `ShapeClient` per browser tab (and, during server rendering, per
 * request), put in context for the hooks below, seeded with the rows the server prefetched.
 *
 * Invariant:
 * - C1. The client is created in state, never at module level: on the server a module-level client would share one
 *   visitor's rows with the next. It is not disposed on unmount, because StrictMode unmounts and remounts once in
 *   development; the tab's lifetime bounds it, and its streams close when their last component unmounts.
 */
import { useState } from 'react'
import { HydrationBoundary, ShapeClient, ShapeClientProvider } from 'live-shapes'
import type { DehydratedState } from 'live-shapes'
import { ItemList } from './ItemList'

/** Props of {@link ItemsApp}. */
export interface ItemsAppProps {
  /** Absolute URL of the shape endpoint, as the browser reaches it. */
  shapeUrl: string
  /** What the server prefetched (`undefined`: the browser loads the shape itself). */
  state?: DehydratedState | undefined
}

/**
 * The live todo list with its form.
 *
 * @example
 * <ItemsApp shapeUrl="http://127.0.0.1:3100/v1/shape" state={await prefetchItems(shapeUrl)} />
 */
export function ItemsApp({ shapeUrl, state }: ItemsAppProps) {
  const [client] = useState(() => new ShapeClient({ liveSse: true }))
  return (
    <ShapeClientProvider client={client}>
      <HydrationBoundary state={state}>
        <ItemList shapeUrl={shapeUrl} returnTo="/" />
      </HydrationBoundary>
    </ShapeClientProvider>
  )
}
