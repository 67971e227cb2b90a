/**
 * The prefetched page, rendered per request: the server syncs the shape and renders its rows; the browser hydrates
 * them and continues the stream live from the server's offset, without fetching the rows again.
 */
import { headers } from 'next/headers'
import { ItemsApp } from '../components/ItemsApp'
import { PageChrome, errorParam } from '../components/PageChrome'
import { SHAPE_PATH } from '../lib/items'
import { requestOrigin } from '../lib/origin'
import { prefetchItems } from '../lib/prefetchItems'

export const dynamic = 'force-dynamic'

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  // Absolute, because the server has no page URL to resolve a relative one against; the same URL goes to the
  // browser so it recognizes the shape the server rendered (lib/items.ts, I1).
  const shapeUrl = `${requestOrigin(await headers(), 'http://127.0.0.1:3100')}${SHAPE_PATH}`
  const state = await prefetchItems(shapeUrl)
  return (
    <PageChrome
      title="Items"
      lede="A Postgres table (embedded PGlite) as a live shape, prefetched and rendered on the server, kept live over SSE. Writes show at once and are confirmed by the stream; a title containing “forbidden” is refused by the database and rolls back. Open this page in two windows and edit."
      error={errorParam(await searchParams)}
      shapeUrl={shapeUrl}
    >
      <ItemsApp shapeUrl={shapeUrl} state={state} />
    </PageChrome>
  )
}
