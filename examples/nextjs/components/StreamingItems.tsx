'use client'
/**
 * The client entry of the streamed page: no prefetch. `SuspenseItemList` suspends on the server until the shape is
 * up to date; `StreamedHydration` puts that state into the same HTML stream (through Next's `useServerInsertedHTML`),
 * and in the browser hands it to the client before the list hydrates, so the browser resumes live from the server's
 * offset without fetching the rows again.
 *
 * Invariants:
 * - S1. One `ShapeClient` per request on the server and per tab in the browser, in state (ItemsApp.tsx, C1).
 * - S2. On the server the client reaches this app's own shape route on the loopback address, whatever the request's
 *   `Host` said: the absolute URL only names the shape (lib/items.ts, I1), so a forged `Host` cannot make the server
 *   fetch another machine (lib/origin.ts, O1).
 */
import { Suspense, useState } from 'react'
import { useServerInsertedHTML } from 'next/navigation'
import { ShapeClient, ShapeClientProvider, StreamedHydration } from 'live-shapes'
import type { FetchLike } from 'live-shapes'
import { SuspenseItemList } from './ItemList'

/** Props of {@link StreamingItems}. */
export interface StreamingItemsProps {
  /** Absolute URL of the shape endpoint, as the browser reaches it. */
  shapeUrl: string
  /** Where this server answers on the loopback address, e.g. `http://127.0.0.1:3100` (S2). */
  localOrigin: string
}

function createClient(localOrigin: string): ShapeClient {
  if (typeof window !== 'undefined') return new ShapeClient({ liveSse: true })
  const fetchLocally: FetchLike = (input, init) => {
    const url = new URL(input)
    return fetch(new URL(`${url.pathname}${url.search}`, localOrigin), init)
  }
  return new ShapeClient({ liveSse: true, fetch: fetchLocally, visibility: null })
}

/**
 * The live list, streamed.
 *
 * @example
 * <StreamingItems shapeUrl="http://127.0.0.1:3100/v1/shape" localOrigin="http://127.0.0.1:3100" />
 */
export function StreamingItems({ shapeUrl, localOrigin }: StreamingItemsProps) {
  const [client] = useState(() => createClient(localOrigin))
  return (
    <ShapeClientProvider client={client}>
      <StreamedHydration insertHTML={useServerInsertedHTML}>
        <Suspense fallback={<p data-testid="loading">Loading the items…</p>}>
          <SuspenseItemList shapeUrl={shapeUrl} returnTo="/streaming" />
        </Suspense>
      </StreamedHydration>
    </ShapeClientProvider>
  )
}
