/**
 * In real Chromium with IndexedDB: a page synced from the in-page shape server is "reloaded" (its client disposed, a
 * new client on the same IndexedDB database) and paints the stored rows before any shape response; with the network
 * blocked it shows the cached rows and an offline/cached status; unblocked it goes live again without ever
 * requesting `offset=-1`. And an outage whose server restarts mid-way ends within a second of the `online` event.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { page } from 'vitest/browser'
import { createRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import type { ReactNode } from 'react'
import { indexedDBStorage, ShapeClient } from '../../src/core/index'
import type { PersistStorage } from '../../src/core/index'
import { ShapeClientProvider, useShape, useShapeStatus } from '../../src/index'
import { createTestShapeServer } from '../../src/testing/index'
import type { TestShapeServer } from '../../src/testing/index'

interface Item {
  id: number
  title: string
}

type NetworkMode = 'pass' | 'hold' | 'block'

/** The page's network to the shape server: passes, holds every request until released, or fails like offline. */
function network(server: TestShapeServer) {
  let mode: NetworkMode = 'pass'
  let held: Array<() => void> = []
  const requested: string[] = []
  let responses = 0
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    requested.push(url)
    if (mode === 'block') throw new TypeError('Failed to fetch')
    if (mode === 'hold') await new Promise<void>((resolve) => held.push(resolve))
    // A request held while the network went down fails as the platform's would (`mode` changed while awaiting).
    if ((mode as NetworkMode) === 'block') throw new TypeError('Failed to fetch')
    if (init?.signal?.aborted) throw init.signal.reason
    const response = await server.fetch(input, init)
    responses++
    return response
  }
  return {
    fetch,
    requested,
    get responses() {
      return responses
    },
    set(next: NetworkMode) {
      mode = next
      if (next !== 'hold') {
        const release = held
        held = []
        for (const resolve of release) resolve()
      }
    },
  }
}

const mounted: Array<{ root: Root; container: HTMLElement; client: ShapeClient }> = []
const servers: TestShapeServer[] = []
afterEach(async () => {
  for (const { root, container, client } of mounted.splice(0)) {
    root.unmount()
    container.remove()
    client.dispose()
  }
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

function Items({ url }: { url: string }): ReactNode {
  const options = { url, params: { table: 'items' }, backoff: { initialDelayMs: 20, maxDelayMs: 100 } }
  const { data, isLoading } = useShape<Item>(options)
  const status = useShapeStatus<Item>(options)
  return (
    <section>
      <p data-testid="phase">{status.phase}</p>
      <p data-testid="source">{status.source ?? 'none'}</p>
      {isLoading ? <p data-testid="loading">Loading…</p> : <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>}
    </section>
  )
}

function mount(client: ShapeClient, url: string): void {
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  root.render(
    <ShapeClientProvider client={client}>
      <Items url={url} />
    </ShapeClientProvider>,
  )
  mounted.push({ root, container, client })
}

function unmountAll(): void {
  for (const { root, container, client } of mounted.splice(0)) {
    root.unmount()
    container.remove()
    client.dispose()
  }
}

let databaseCounter = 0

describe('persisted shapes in Chromium (IndexedDB)', () => {
  it('a reload paints the stored rows before any shape response; offline shows them as cached; back online resumes live without offset=-1', async () => {
    const server = createTestShapeServer({
      tables: [
        {
          name: 'items',
          columns: [
            { name: 'id', type: 'int4', primaryKey: true },
            { name: 'title', type: 'text', notNull: true },
          ],
          rows: [
            { id: 1, title: 'Buy milk' },
            { id: 2, title: 'Write stories' },
          ],
        },
      ],
      longPollTimeoutMs: 20_000,
    })
    servers.push(server)
    const storage: PersistStorage = indexedDBStorage({ databaseName: `live-shapes-e2e-${Date.now()}-${databaseCounter++}` })

    // First visit: synced over the network and written to IndexedDB.
    const firstNetwork = network(server)
    const first = new ShapeClient({ fetch: firstNetwork.fetch, persist: { storage } })
    mount(first, server.url)
    await expect.element(page.getByText('Write stories')).toBeInTheDocument()
    await expect.element(page.getByTestId('phase')).toHaveTextContent('live')
    await first.flushPersisted()
    unmountAll()

    // The reload: a new client on the same IndexedDB, every request held.
    const net = network(server)
    net.set('hold')
    const client = new ShapeClient({ fetch: net.fetch, persist: { storage } })
    mount(client, server.url)
    await expect.element(page.getByText('Write stories')).toBeInTheDocument()
    expect(page.getByText('Buy milk').query()).not.toBeNull()
    expect(net.responses).toBe(0)
    await expect.element(page.getByTestId('source')).toHaveTextContent('cache')

    // Network blocked: the cached rows stay, the status says cached and failing.
    net.set('block')
    await expect.element(page.getByTestId('phase')).toHaveTextContent(/^(error|retrying)$/)
    expect(page.getByTestId('source').element().textContent).toBe('cache')
    expect(page.getByRole('listitem').elements().map((item) => item.textContent)).toEqual(['Buy milk', 'Write stories'])

    // Back online: live again from the stored offset; a change made meanwhile arrives.
    server.source.insert('items', { id: 3, title: 'Ship it' })
    net.set('pass')
    await expect.element(page.getByText('Ship it')).toBeInTheDocument()
    await expect.element(page.getByTestId('source')).toHaveTextContent('network')
    await expect.element(page.getByTestId('phase')).toHaveTextContent('live')
    expect(net.requested.length).toBeGreaterThan(0)
    expect(net.requested.filter((url) => new URL(url).searchParams.get('offset') === '-1')).toEqual([])
    expect(net.requested.every((url) => new URL(url).searchParams.get('live') === 'true')).toBe(true)
  })
})

describe('an outage in Chromium', () => {
  it('recovers within a second of the online event after the server restarted mid-way, not at the end of its backoff', async () => {
    const table = {
      name: 'items',
      columns: [
        { name: 'id', type: 'int4', primaryKey: true },
        { name: 'title', type: 'text', notNull: true },
      ],
      rows: [{ id: 1, title: 'Buy milk' }],
    }
    let current = createTestShapeServer({ tables: [table], longPollTimeoutMs: 20_000 })
    servers.push(current)
    let down = false
    const requested: string[] = []
    const fetch: typeof globalThis.fetch = async (input, init) => {
      requested.push(input instanceof Request ? input.url : String(input))
      if (down) throw new TypeError('Failed to fetch')
      return current.fetch(input, init)
    }
    // A backoff far longer than the test: only the online event can bring the shape back in time.
    const client = new ShapeClient({ fetch })
    const container = document.createElement('div')
    document.body.append(container)
    const root = createRoot(container)
    function Slow(): ReactNode {
      const options = { url: current.url, params: { table: 'items' }, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } }
      const { data } = useShape<Item>(options)
      const status = useShapeStatus<Item>(options)
      return (
        <section>
          <p data-testid="phase">{status.phase}</p>
          <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
        </section>
      )
    }
    root.render(
      <ShapeClientProvider client={client}>
        <Slow />
      </ShapeClientProvider>,
    )
    mounted.push({ root, container, client })
    await expect.element(page.getByTestId('phase')).toHaveTextContent('live')

    // The server goes down (its held live request ends) and the network with it: the shape backs off for a minute.
    down = true
    await current.close()
    await expect.element(page.getByTestId('phase')).toHaveTextContent('retrying')

    // The server comes back as a new process (the old shape handle is gone) with a row written meanwhile.
    current = createTestShapeServer({ tables: [{ ...table, rows: [...table.rows, { id: 2, title: 'Ship it' }] }], longPollTimeoutMs: 20_000 })
    servers.push(current)
    down = false
    const before = requested.length
    window.dispatchEvent(new Event('online'))
    await expect.element(page.getByText('Ship it'), { timeout: 1_000 }).toBeInTheDocument()
    await expect.element(page.getByTestId('phase'), { timeout: 1_000 }).toHaveTextContent('live')
    // It resynced from the restarted server (a 409 for the lost handle, then its snapshot), right after the event.
    expect(requested.length).toBeGreaterThan(before)
  })
})
