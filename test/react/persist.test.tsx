/**
 * A reload with a persisted shape: the first commit already shows the stored rows (no loading state, no request
 * yet), then the stream resumes live from the stored offset without an `offset=-1` request.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { StrictMode, Suspense, useCallback, useLayoutEffect } from 'react'
import type { ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { hydrateRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { memoryStorage, ShapeClient } from '../../src/core/index'
import { ShapeClientProvider, ShapeRowList, useShape, useShapeKeys, useShapeMutation, useShapeRow, useShapeStatus, useSuspenseShape } from '../../src/react/index'
import type { UseShapeMutationResult } from '../../src/react/index'
import { countingFetch } from './support/countingFetch'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
let root: Root | undefined
const clients: ShapeClient[] = []
afterEach(async () => {
  cleanup()
  act(() => root?.unmount())
  root = undefined
  document.body.innerHTML = ''
  for (const client of clients.splice(0)) client.dispose()
  await harness?.close()
  harness = undefined
})

describe('persisted shapes in React', () => {
  it('renders the stored rows on the first commit of a reload, without a loading state, then goes live', async () => {
    const storage = memoryStorage()
    harness = createHarness(makeItems(2), { persist: { storage, pageHide: null } })
    const h = harness

    interface Commit {
      loading: boolean
      titles: string
      source: string | undefined
      requests: number
    }
    function List({ commits, requests }: { commits: Commit[]; requests: () => number }) {
      const { data, isLoading } = useShape<Item>(h.options())
      const status = useShapeStatus<Item>(h.options())
      const titles = data.map((row) => row.title).join(',')
      useLayoutEffect(() => {
        commits.push({ loading: isLoading, titles, source: status.source, requests: requests() })
      })
      return <p data-testid="list">{isLoading ? 'loading' : titles}</p>
    }

    // First visit: synced over the network, then persisted.
    const firstCommits: Commit[] = []
    const first = render(
      <ShapeClientProvider client={h.client}>
        <List commits={firstCommits} requests={() => h.requests.started} />
      </ShapeClientProvider>,
    )
    await screen.findByText('item 1,item 2')
    expect(firstCommits[0]).toMatchObject({ loading: true })
    await act(() => h.client.flushPersisted())
    first.unmount()

    // The reload: a new client on the same storage.
    const requests = countingFetch(h.server.fetch)
    const client = new ShapeClient({ fetch: requests.fetch, clock: h.clock, visibility: null, persist: { storage, pageHide: null } })
    clients.push(client)
    const commits: Commit[] = []
    render(
      <ShapeClientProvider client={client}>
        <List commits={commits} requests={() => requests.started} />
      </ShapeClientProvider>,
    )
    expect(commits[0]).toEqual({ loading: false, titles: 'item 1,item 2', source: 'cache', requests: 0 })
    expect(commits.every((commit) => !commit.loading)).toBe(true)

    act(() => h.server.source.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 1,item 2,item 3')
    expect(commits.at(-1)?.source).toBe('network')
    expect(requests.initial).toBe(0)
  })

  it('under StrictMode a reload shows the stored rows on its first commit, opens one live stream from the stored offset and writes optimistically over them', async () => {
    const storage = memoryStorage()
    harness = createHarness(makeItems(2), { persist: { storage, pageHide: null } })
    const h = harness
    const first = h.client.shape<Item>(h.options())
    const release = first.retain()
    await first.whenUpToDate()
    await h.client.flushPersisted()
    release()
    h.client.dispose()

    const requests = countingFetch(h.server.fetch)
    const client = new ShapeClient({ fetch: requests.fetch, clock: h.clock, visibility: null, persist: { storage, pageHide: null } })
    clients.push(client)
    const firstCommits: string[] = []
    let add: UseShapeMutationResult<Item> | undefined
    function List() {
      const { data, shape } = useShape<Item>(h.options())
      add = useShapeMutation<Item, Item>(shape, { apply: (draft, item) => draft.insert(item), commit: (item) => h.server.insert(h.table, { ...item }) })
      const titles = data.map((row) => row.title).join(',')
      useLayoutEffect(() => {
        firstCommits.push(titles)
      }, [])
      return <p data-testid="list">{titles}</p>
    }
    render(
      <StrictMode>
        <ShapeClientProvider client={client}>
          <List />
        </ShapeClientProvider>
      </StrictMode>,
    )
    expect(firstCommits[0]).toBe('item 1,item 2')
    await waitFor(() => expect(requests.started).toBe(1))
    expect(requests.initial).toBe(0)
    expect(client.size).toBe(1)
    await act(async () => {
      await add?.mutateAsync({ id: 3, title: 'item 3', done: false })
    })
    expect(screen.getByTestId('list').textContent).toBe('item 1,item 2,item 3')
    expect(requests.initial).toBe(0)
  })
})

describe('server rendering a persisted shape', () => {
  type Page = (props: { options: ReturnType<Harness['options']>; firstKey: string }) => ReactNode
  function Row({ options, rowKey }: { options: ReturnType<Harness['options']>; rowKey: string }) {
    const row = useShapeRow<Item>(options, rowKey)
    return <li>{row?.title ?? 'no row'}</li>
  }
  const pages: Array<{ hook: string; Page: Page; server: string; browser: string }> = [
    {
      hook: 'useShape',
      Page: ({ options }) => {
        const { data, isLoading, isUpToDate, lastSyncedAt } = useShape<Item>(options)
        return <p>{isLoading ? `loading ${String(isUpToDate)} ${String(lastSyncedAt)}` : `${data.map((row) => row.title).join(',')} ${String(isUpToDate)}`}</p>
      },
      server: 'loading false undefined',
      browser: 'item 1,item 2 true',
    },
    {
      hook: 'useShapeStatus',
      Page: ({ options }) => {
        const status = useShapeStatus<Item>(options)
        return <p>{`${status.phase} ${String(status.isUpToDate)} ${String(status.lastSyncedAt !== undefined)} ${String(status.source)}`}</p>
      },
      server: 'connecting false false undefined',
      browser: 'live true true cache',
    },
    {
      hook: 'useShapeRow',
      Page: ({ options, firstKey }) => <ul><Row options={options} rowKey={firstKey} /></ul>,
      server: 'no row',
      browser: 'item 1',
    },
    {
      hook: 'useShapeKeys',
      Page: ({ options }) => <p>{useShapeKeys<Item>(options).length}</p>,
      server: '0',
      browser: '2',
    },
    {
      hook: 'ShapeRowList',
      Page: ({ options }) => {
        const renderRow = useCallback((key: string) => <Row options={options} rowKey={key} />, [options])
        return <ul>{'rows:'}<ShapeRowList shape={options} renderRow={renderRow} /></ul>
      },
      server: 'rows:',
      browser: 'rows:item 1item 2',
    },
  ]

  it.each(pages)('$hook hydrates what the server rendered (no storage there: loading), then shows the stored rows without any answer', async ({ Page, server, browser }) => {
    const storage = memoryStorage()
    harness = createHarness(makeItems(2), { persist: { storage, pageHide: null } })
    const h = harness
    const first = h.client.shape<Item>(h.options())
    const release = first.retain()
    await first.whenUpToDate()
    await h.client.flushPersisted()
    const firstKey = first.rowKey({ id: 1 })
    release()

    // The server: a request client with no storage renders the shape loading. No shape request is ever answered.
    const never: typeof fetch = (_, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))
    const serverClient = new ShapeClient({ fetch: never, visibility: null })
    clients.push(serverClient)
    const container = document.createElement('div')
    container.innerHTML = renderToString(
      <ShapeClientProvider client={serverClient}>
        <Page options={h.options()} firstKey={firstKey} />
      </ShapeClientProvider>,
    )
    document.body.appendChild(container)
    expect(container.textContent).toBe(server)

    // The browser: its client's storage holds the shape, so `client.shape()` seeds it at once.
    const browserClient = new ShapeClient({ fetch: never, clock: h.clock, visibility: null, persist: { storage, pageHide: null } })
    clients.push(browserClient)
    const recoverable: unknown[] = []
    const consoleError = vi.spyOn(console, 'error')
    try {
      await act(async () => {
        root = hydrateRoot(
          container,
          <ShapeClientProvider client={browserClient}>
            <Page options={h.options()} firstKey={firstKey} />
          </ShapeClientProvider>,
          { onRecoverableError: (error) => recoverable.push(error) },
        )
      })
      expect(recoverable).toEqual([])
      expect(consoleError).not.toHaveBeenCalled()
    } finally {
      consoleError.mockRestore()
    }
    expect(container.textContent).toBe(browser)
  })

  it('useSuspenseShape keeps what the server rendered: rows the server synced itself, never a loading state', async () => {
    const storage = memoryStorage()
    harness = createHarness(makeItems(2), { persist: { storage, pageHide: null } })
    const h = harness
    const synced = h.client.shape<Item>(h.options())
    const release = synced.retain()
    await synced.whenUpToDate()
    await h.client.flushPersisted()
    function Page() {
      const { data, isLoading } = useSuspenseShape<Item>(h.options())
      return <p>{`${String(isLoading)} ${data.map((row) => row.title).join(',')}`}</p>
    }
    // A streaming server waits for the shape, so it renders rows, never the loading state.
    const container = document.createElement('div')
    container.innerHTML = renderToString(
      <ShapeClientProvider client={h.client}>
        <Suspense fallback="fallback">
          <Page />
        </Suspense>
      </ShapeClientProvider>,
    )
    release()
    document.body.appendChild(container)
    expect(container.textContent).toBe('false item 1,item 2')

    const never: typeof fetch = (_, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))
    const browserClient = new ShapeClient({ fetch: never, clock: h.clock, visibility: null, persist: { storage, pageHide: null } })
    clients.push(browserClient)
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(
        container,
        <ShapeClientProvider client={browserClient}>
          <Suspense fallback="fallback">
            <Page />
          </Suspense>
        </ShapeClientProvider>,
        { onRecoverableError: (error) => recoverable.push(error) },
      )
    })
    expect(recoverable).toEqual([])
    expect(container.textContent).toBe('false item 1,item 2')
  })
})
