import { describe, it, expect, afterEach, vi } from 'vitest'
import { lazy, StrictMode, Suspense } from 'react'
import type { ComponentType } from 'react'
import { renderToString } from 'react-dom/server'
import { hydrateRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import { act, screen, waitFor } from '@testing-library/react'
import { dehydrate, parseDehydratedState, prefetchShape, serializeDehydratedState, ShapeClient } from '../../src/core/index'
import type { DehydratedState, FetchLike } from '../../src/core/index'
import { HydrationBoundary, ShapeClientProvider, useShape, useSuspenseShape } from '../../src/react/index'
import { createTestShapeServer } from '../../src/testing/index'
import type { TestShapeServer } from '../../src/testing/index'
import { ITEM_COLUMNS } from './support/harness'
import type { Item } from './support/harness'

const HOSTILE = '</script><script>alert(1)</script>\u2028\u2029'

let server: TestShapeServer | undefined
let root: Root | undefined
const clients: ShapeClient[] = []
afterEach(async () => {
  act(() => root?.unmount())
  root = undefined
  for (const client of clients.splice(0)) client.dispose()
  document.body.innerHTML = ''
  vi.restoreAllMocks()
  await server?.close()
  server = undefined
})

let tableCounter = 0
function startServer(): { server: TestShapeServer; table: string } {
  tableCounter += 1
  const table = `ssr_items_${tableCounter}`
  server = createTestShapeServer({
    tables: [
      {
        name: table,
        columns: ITEM_COLUMNS,
        rows: [
          { id: 1, title: 'item 1', done: false },
          { id: 2, title: HOSTILE, done: true },
        ],
      },
    ],
    longPollTimeoutMs: 60_000,
  })
  return { server, table }
}

interface Target {
  url: string
  table: string
  liveSse?: boolean
}

function shapeOptions({ url, table, liveSse }: Target) {
  return liveSse === undefined ? { url, params: { table } } : { url, params: { table }, liveSse }
}

function List(target: Target) {
  const { data, isUpToDate, lastSyncedAt } = useShape<Item>(shapeOptions(target))
  return (
    <ul data-testid="list" data-up-to-date={String(isUpToDate)} data-synced={String(lastSyncedAt)}>
      {data.map((row) => (
        <li key={row.id}>{row.title}</li>
      ))}
    </ul>
  )
}

function App({ client, state, ...target }: Target & { client: ShapeClient; state: DehydratedState | undefined }) {
  return (
    <ShapeClientProvider client={client}>
      <HydrationBoundary state={state}>
        <List {...target} />
      </HydrationBoundary>
    </ShapeClientProvider>
  )
}

/**
 * One server request, as a Next.js app router does it: a request client prefetches and dehydrates (the server
 * component), another fresh client renders the client components through `HydrationBoundary`; both are per request.
 */
async function serverRender(
  test: { server: TestShapeServer; table: string },
  liveSse?: boolean,
): Promise<{ page: string; state: DehydratedState }> {
  const target: Target = { url: test.server.url, table: test.table, ...(liveSse === undefined ? {} : { liveSse }) }
  const requestClient = new ShapeClient({ fetch: test.server.fetch, visibility: null })
  let state: DehydratedState
  try {
    await prefetchShape(requestClient, shapeOptions(target))
    state = dehydrate(requestClient)
  } finally {
    requestClient.dispose()
  }
  const renderClient = new ShapeClient({ fetch: () => Promise.reject(new Error('the server render must not fetch')), visibility: null })
  const html = renderToString(<App client={renderClient} state={state} {...target} />)
  renderClient.dispose()
  const page = `<div id="root">${html}</div><script id="shapes" type="application/json">${serializeDehydratedState(state)}</script>`
  return { page, state }
}

/** A browser client whose fetch records every URL and lets a test wait for the n-th request. */
function browserClient(target: TestShapeServer) {
  const urls: URL[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const fetch: FetchLike = (input, init) => {
    urls.push(new URL(input))
    for (const waiter of waiters.filter((w) => urls.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
    return target.fetch(input, init)
  }
  const client = new ShapeClient({ fetch, visibility: null })
  clients.push(client)
  const requests = (count: number): Promise<void> =>
    urls.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))
  return { client, urls, requests }
}

/** Loads the server's page into the document the way a browser would, and reads the state back from the DOM. */
function loadPage(page: string): { container: HTMLElement; state: DehydratedState } {
  document.body.innerHTML = page
  const script = document.getElementById('shapes')
  const container = document.getElementById('root')
  if (!script || !container) throw new Error('page not loaded')
  return { container, state: parseDehydratedState(script.textContent ?? '') }
}

describe('server rendering with HydrationBoundary', () => {
  it('hydrates without a mismatch, resumes live from the server offset without refetching, and follows changes', async () => {
    const test = startServer()
    const { page, state: serverState } = await serverRender(test)
    expect(page).toContain('item 1')
    expect(page.match(/<script/g)).toHaveLength(1)

    const { container, state } = loadPage(page)
    expect(state).toEqual(serverState)
    expect(document.querySelectorAll('script')).toHaveLength(1)
    expect(screen.getByText(HOSTILE, { normalizer: (text) => text })).toBeTruthy()

    const browser = browserClient(test.server)
    const consoleError = vi.spyOn(console, 'error')
    const recoverable: unknown[] = []
    const serverHtml = container.innerHTML
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} state={state} url={test.server.url} table={test.table} />, {
        onRecoverableError: (error) => recoverable.push(error),
      })
    })
    expect(recoverable).toEqual([])
    expect(consoleError).not.toHaveBeenCalled()
    expect(container.innerHTML).toBe(serverHtml)
    const list = screen.getByTestId('list')
    expect(list.dataset['upToDate']).toBe('true')
    expect(list.dataset['synced']).toBe(String(serverState.shapes[0]?.lastSyncedAt))

    await browser.requests(1)
    const first = browser.urls[0]!.searchParams
    const position = serverState.shapes[0]!.position
    expect(first.get('live')).toBe('true')
    expect(first.get('handle')).toBe(position.handle)
    expect(first.get('offset')).toBe(position.offset)
    expect(first.get('cursor')).toBe(position.cursor ?? null)

    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual(['item 1', HOSTILE, 'item 3'])
    expect(browser.urls.every((url) => url.searchParams.get('offset') !== '-1')).toBe(true)
    expect(browser.urls.every((url) => url.searchParams.get('live') === 'true')).toBe(true)
    expect(consoleError).not.toHaveBeenCalled()
  })

  it('under StrictMode still opens one stream', async () => {
    const test = startServer()
    const { page } = await serverRender(test)
    const { container, state } = loadPage(page)
    const browser = browserClient(test.server)
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(
        container,
        <StrictMode>
          <App client={browser.client} state={state} url={test.server.url} table={test.table} />
        </StrictMode>,
        { onRecoverableError: (error) => recoverable.push(error) },
      )
    })
    expect(recoverable).toEqual([])
    expect(browser.client.size).toBe(1)

    await browser.requests(1)
    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    await browser.requests(2)
    // Two streams would each ask for the same offsets; one stream asks for each offset once, in order.
    const offsets = browser.urls.map((url) => url.searchParams.get('offset'))
    expect(new Set(offsets).size).toBe(offsets.length)
    expect(offsets[0]).toBe(state.shapes[0]?.position.offset)
    expect(browser.urls.every((url) => url.searchParams.get('live') === 'true')).toBe(true)
  })

  it('continues over SSE from the server offset when the shape uses liveSse', async () => {
    const test = startServer()
    const { page, state: serverState } = await serverRender(test, true)
    expect(serverState.shapes[0]?.options.liveSse).toBe(true)
    const { container, state } = loadPage(page)
    const browser = browserClient(test.server)
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} state={state} url={test.server.url} table={test.table} liveSse />, {
        onRecoverableError: (error) => recoverable.push(error),
      })
    })
    expect(recoverable).toEqual([])
    await browser.requests(1)
    const first = browser.urls[0]!.searchParams
    expect(first.get('live')).toBe('true')
    expect(first.get('live_sse')).toBe('true')
    expect(first.get('offset')).toBe(serverState.shapes[0]?.position.offset)
    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    expect(browser.urls.every((url) => url.searchParams.get('offset') !== '-1')).toBe(true)
  })

  it('a part of the page that hydrates after the stream moved on renders the server rows first, then the current ones', async () => {
    const test = startServer()
    const { state: serverState } = await serverRender(test)
    const target: Target = { url: test.server.url, table: test.table }
    // The page shows the list in its shell, and again (with useShape and with useSuspenseShape) in a Suspense boundary
    // whose code the browser loads later (React.lazy, as a code-split client component), so React hydrates it only
    // once that code arrived.
    function SuspendedList(props: Target) {
      const { data } = useSuspenseShape<Item>(shapeOptions(props))
      return <p>{data.map((row) => row.title).join(',')}</p>
    }
    function Both(props: Target) {
      return (
        <>
          <List {...props} />
          <SuspendedList {...props} />
        </>
      )
    }
    function Page({ client, Later }: { client: ShapeClient; Later: ComponentType<Target> }) {
      return (
        <ShapeClientProvider client={client}>
          <HydrationBoundary state={parseDehydratedState(serializeDehydratedState(serverState))}>
            <List {...target} />
            <Suspense fallback={<p>loading</p>}>
              <section data-testid="later">
                <Later {...target} />
              </section>
            </Suspense>
          </HydrationBoundary>
        </ShapeClientProvider>
      )
    }
    const renderClient = new ShapeClient({ fetch: () => Promise.reject(new Error('the server render must not fetch')), visibility: null })
    document.body.innerHTML = `<div id="root">${renderToString(<Page client={renderClient} Later={Both} />)}</div>`
    renderClient.dispose()
    const container = document.getElementById('root')!

    let loadLater!: (module: { default: ComponentType<Target> }) => void
    const Later = lazy(() => new Promise<{ default: ComponentType<Target> }>((resolve) => (loadLater = resolve)))
    const browser = browserClient(test.server)
    const consoleError = vi.spyOn(console, 'error')
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(container, <Page client={browser.client} Later={Later} />, { onRecoverableError: (error) => recoverable.push(error) })
    })
    // The shell is live and follows a change before the boundary's code has arrived.
    await browser.requests(1)
    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    expect(screen.getByTestId('later').textContent).toBe(`item 1${HOSTILE}item 1,${HOSTILE}`)

    await act(async () => loadLater({ default: Both }))
    expect(recoverable).toEqual([])
    expect(consoleError).not.toHaveBeenCalled()
    await waitFor(() => expect(screen.getByTestId('later').textContent).toBe(`item 1${HOSTILE}item 3item 1,${HOSTILE},item 3`))
    expect(browser.urls.every((url) => url.searchParams.get('live') === 'true')).toBe(true)
  })
})
