/**
 * The streamed page: no prefetch. The shell goes out at once with a fallback; `useSuspenseShape` syncs the shape
 * during the render and the rows follow in the same response, with the state the browser needs to continue live
 * (`StreamedHydration`, components/StreamingItems.tsx).
 */
import { headers } from 'next/headers'
import { PageChrome, errorParam } from '../../components/PageChrome'
import { StreamingItems } from '../../components/StreamingItems'
import { SHAPE_PATH } from '../../lib/items'
import { localOrigin, requestOrigin } from '../../lib/origin'

export const dynamic = 'force-dynamic'

export default async function StreamingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const shapeUrl = `${requestOrigin(await headers(), 'http://127.0.0.1:3100')}${SHAPE_PATH}`
  return (
    <PageChrome
      title="Items, streamed"
      lede="The same table with useSuspenseShape and no prefetch: the rows stream in after the page's shell, and the browser picks up the server's stream position from the same response."
      error={errorParam(await searchParams)}
      shapeUrl={shapeUrl}
    >
      <StreamingItems shapeUrl={shapeUrl} localOrigin={localOrigin()} />
    </PageChrome>
  )
}
