import { describe, it, expect, afterEach } from 'vitest'
import { renderToString } from 'react-dom/server'
import { hydrateRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import { act, screen } from '@testing-library/react'
import { ShapeClient } from '../../src/core/index'
import { ShapeClientProvider, useShape } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
let root: Root | undefined
afterEach(async () => {
  act(() => root?.unmount())
  root = undefined
  document.body.innerHTML = ''
  await harness?.close()
  harness = undefined
})

describe('hydration', () => {
  it('hydrates from the store as the server rendered it, without a mismatch, then follows live changes', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    function List() {
      const { data, isLoading } = useShape<Item>(h.options())
      return <p data-testid="list">{isLoading ? 'loading' : data.map((row) => row.title).join(',')}</p>
    }
    const app = (client: ShapeClient) => (
      <ShapeClientProvider client={client}>
        <List />
      </ShapeClientProvider>
    )

    // The server: one client for this request, synced before rendering.
    const serverClient = new ShapeClient({ fetch: h.server.fetch, visibility: null })
    const serverShape = serverClient.shape<Item>(h.options())
    const releaseServer = serverShape.retain()
    await serverShape.whenUpToDate()
    const html = renderToString(app(serverClient))
    releaseServer()
    serverClient.dispose()
    expect(html).toContain('item 1,item 2')

    // The browser: its client holds the same rows when hydration starts (what dehydrate/hydrate provide).
    const browserShape = h.client.shape<Item>(h.options())
    const releaseBrowser = browserShape.retain()
    await browserShape.whenUpToDate()
    const container = document.createElement('div')
    container.innerHTML = html
    document.body.appendChild(container)
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(container, app(h.client), { onRecoverableError: (error) => recoverable.push(error) })
    })
    releaseBrowser()
    expect(recoverable).toEqual([])
    expect(screen.getByTestId('list').textContent).toBe('item 1,item 2')
    act(() => h.server.source.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 1,item 2,item 3')
  })
})
