/**
 * A reload with a persisted shape: the first commit already shows the stored rows (no loading state, no request
 * yet), then the stream resumes live from the stored offset without an `offset=-1` request.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { StrictMode, useLayoutEffect } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { memoryStorage, ShapeClient } from '../../src/core/index'
import { ShapeClientProvider, useShape, useShapeMutation, useShapeStatus } from '../../src/react/index'
import type { UseShapeMutationResult } from '../../src/react/index'
import { countingFetch } from './support/countingFetch'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
const clients: ShapeClient[] = []
afterEach(async () => {
  cleanup()
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
