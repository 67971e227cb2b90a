/**
 * Server rendering that resumes the stream: the "server" (here, the same page) prefetches the shape with a client of
 * its own, dehydrates it and renders HTML; the browser shows that HTML, then hydrates it with `HydrationBoundary`
 * and continues live from the server's handle and offset: its first request is a live one, never `offset=-1`.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react'
import type { ReactNode } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { expect, waitFor } from 'storybook/test'
import { kindOf } from '../demo/requestLog'
import { dehydrateShapes, HydrationBoundary, ShapeClient, ShapeClientProvider, useShape } from '../src/index'
import type { DehydratedState } from '../src/index'
import { ItemsView } from './support/ItemsView'
import { ItemWriter } from './support/ItemWriter'
import { itemsShape } from './support/itemsShape'
import { StatusBadge } from './support/StatusBadge'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'
import type { Item } from './support/storyFixture'

/** The app as both sides render it. */
function ItemsApp({ url }: { url: string }): ReactNode {
  const { data, shape } = useShape<Item>(itemsShape(url))
  return (
    <>
      <StatusBadge source={shape} />
      <ItemsView items={data} />
    </>
  )
}

/** What the server sends: the dehydrated state and the HTML rendered from it. */
interface ServerRender {
  state: DehydratedState
  html: string
}

async function renderOnTheServer(url: string, fetch: typeof globalThis.fetch): Promise<ServerRender> {
  const state = await dehydrateShapes([itemsShape(url)], { client: { fetch } })
  // One client per request, as on a real server; it renders from the dehydrated state without fetching.
  const client = new ShapeClient({ fetch, visibility: null })
  const html = renderToString(
    <ShapeClientProvider client={client}>
      <HydrationBoundary state={state}>
        <ItemsApp url={url} />
      </HydrationBoundary>
    </ShapeClientProvider>,
  )
  client.dispose()
  return { state, html }
}

/** The browser client's requests, as the story lists them (kind and offset, from the URL). */
function createRequestList() {
  let entries: readonly string[] = []
  const listeners = new Set<() => void>()
  return {
    record(url: string) {
      const params = new URL(url).searchParams
      entries = [...entries, `${kindOf(params)} from offset ${params.get('offset') ?? '-1'}`]
      listeners.forEach((listener) => listener())
    },
    subscribe(listener: () => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    getSnapshot: () => entries,
  }
}

type RequestList = ReturnType<typeof createRequestList>

function HydratedPage({ requests }: { requests: RequestList }): ReactNode {
  const fixture = useStoryFixture()
  const [server, setServer] = useState<ServerRender | undefined>(undefined)
  const [hydrated, setHydrated] = useState(false)
  const [mismatch, setMismatch] = useState<string | undefined>(undefined)
  const container = useRef<HTMLDivElement>(null)
  const seen = useSyncExternalStore(requests.subscribe, requests.getSnapshot)

  useEffect(() => {
    let cancelled = false
    renderOnTheServer(fixture.url, fixture.server.fetch).then((render) => cancelled || setServer(render), setMismatch)
    return () => {
      cancelled = true
    }
  }, [fixture])

  useLayoutEffect(() => {
    if (!hydrated || !server || !container.current) return undefined
    const root = hydrateRoot(
      container.current,
      <ShapeClientProvider client={fixture.client}>
        <HydrationBoundary state={server.state}>
          <ItemsApp url={fixture.url} />
        </HydrationBoundary>
      </ShapeClientProvider>,
      { onRecoverableError: (error) => setMismatch(String(error)) },
    )
    // Unmounted after this commit: a root cannot be unmounted synchronously while React renders another.
    return () => void queueMicrotask(() => root.unmount())
  }, [hydrated, server, fixture])

  if (!server) return <p className="muted">Rendering on the server…</p>
  return (
    <>
      <div className="row">
        <button type="button" className="primary" disabled={hydrated} onClick={() => setHydrated(true)}>
          {hydrated ? 'Hydrated' : 'Hydrate (load the JavaScript)'}
        </button>
        <span className="muted" data-testid="ssr-stage">
          {hydrated ? 'hydrated: live from the server’s offset' : 'server HTML, no JavaScript yet'}
        </span>
      </div>
      {hydrated && <ItemWriter />}
      <div ref={container} className="panel" data-testid="ssr-root" dangerouslySetInnerHTML={{ __html: server.html }} />
      {mismatch !== undefined && (
        <p role="alert" className="error" data-testid="ssr-mismatch">
          {mismatch}
        </p>
      )}
      <h2>Browser requests</h2>
      <ol data-testid="ssr-requests">
        {seen.map((entry, index) => (
          <li key={index}>{entry}</li>
        ))}
      </ol>
    </>
  )
}

function ServerRenderingStory(): ReactNode {
  const [requests] = useState(createRequestList)
  return (
    <StoryFixtureProvider options={{ onRequest: (url) => requests.record(url) }}>
      <HydratedPage requests={requests} />
    </StoryFixtureProvider>
  )
}

/**
 * `dehydrateShapes` on the server, `HydrationBoundary` in the browser: the same rows before and after hydration, no
 * mismatch, no refetch.
 */
const meta = {
  title: 'Live shapes/Server rendering',
  render: () => <ServerRenderingStory />,
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** The server's HTML first; "Hydrate" continues it live, and the writer's rows arrive over the resumed stream. */
export const DehydratedThenLive: Story = {
  play: async ({ canvas, userEvent, step }) => {
    await step('the server HTML shows the rows before any browser request', async () => {
      await expect(await canvas.findByTestId('item-3')).toHaveTextContent('#3 Ship it · v1')
      await expect(canvas.getByTestId('ssr-requests').children).toHaveLength(0)
    })
    await step('hydration resumes live from the server offset', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Hydrate (load the JavaScript)' }))
      await waitFor(() => expect(canvas.getByTestId('ssr-requests').children.length).toBeGreaterThan(0))
      await expect(canvas.getByTestId('ssr-requests').children[0]).toHaveTextContent(/^long-poll from offset (?!-1)/)
      await expect(canvas.getByTestId('ssr-requests')).not.toHaveTextContent('offset -1')
      await expect(canvas.queryByTestId('ssr-mismatch')).toBeNull()
    })
    await step('a write arrives live', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Insert item' }))
      await expect(await canvas.findByTestId('item-4')).toHaveTextContent('#4 Item 4 · v1')
    })
  },
}
