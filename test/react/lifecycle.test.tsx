import { describe, it, expect, afterEach } from 'vitest'
import { StrictMode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { useShape } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'
import { fiftyShapes } from './support/fiftyShapes'

const GRACE_MS = 3000
let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

function Titles({ h, label = 'list' }: { h: Harness; label?: string }) {
  const { data, isLoading } = useShape<Item>(h.options())
  return <p>{`${label}:${isLoading ? 'loading' : data.map((row) => row.title).join(',')}`}</p>
}

describe('StrictMode', () => {
  it('double render and double effects open one stream, closed after the grace period once really unmounted', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const view = render(
      <StrictMode>
        <Titles h={h} />
      </StrictMode>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('list:item 1,item 2')
    expect(h.requests.initial).toBe(1)
    expect(h.client.size).toBe(1)
    act(() => h.server.source.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('list:item 1,item 2,item 3')
    expect(h.requests.initial).toBe(1)

    // The stream yields to the event loop between requests, so the next live request may not be out yet.
    await waitFor(() => expect(h.requests.open).toBe(1))
    view.unmount()
    expect(h.requests.open).toBe(1)
    act(() => h.clock.advance(GRACE_MS - 1))
    expect(h.client.size).toBe(1)
    expect(h.requests.open).toBe(1)
    act(() => h.clock.advance(1))
    expect(h.client.size).toBe(0)
    await h.requests.idle()
    expect(h.requests.open).toBe(0)
  })
})

describe('ref-counting', () => {
  it('components with the same shape share one stream; the last to unmount closes it after the grace period', async () => {
    harness = createHarness(makeItems(1))
    const h = harness
    function Both({ a, b }: { a: boolean; b: boolean }) {
      return (
        <>
          {a ? <Titles h={h} label="a" /> : null}
          {b ? <Titles h={h} label="b" /> : null}
        </>
      )
    }
    const view = render(<Both a b />, { wrapper: h.wrapper })
    await screen.findByText('a:item 1')
    await screen.findByText('b:item 1')
    expect(h.requests.initial).toBe(1)
    const shape = h.client.shape(h.options())
    expect(shape.refCount).toBe(2)

    view.rerender(<Both a={false} b />)
    expect(shape.refCount).toBe(1)
    act(() => h.clock.advance(GRACE_MS * 2))
    expect(h.client.size).toBe(1)
    expect(screen.getByText('b:item 1')).toBeTruthy()

    view.rerender(<Both a={false} b={false} />)
    act(() => h.clock.advance(GRACE_MS - 1))
    view.rerender(<Both a b={false} />)
    expect(screen.getByText('a:item 1')).toBeTruthy()
    expect(h.requests.initial).toBe(1)
    act(() => h.clock.advance(GRACE_MS * 2))
    expect(h.client.size).toBe(1)

    view.rerender(<Both a={false} b={false} />)
    act(() => h.clock.advance(GRACE_MS))
    expect(h.client.size).toBe(0)
    await h.requests.idle()
  })

  it('1,000 mount/unmount cycles of 50 shapes leave no shape registered, no timer and no request open', async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    const { Many, syncedText } = fiftyShapes(h)
    const view = render(<Many on={false} />, { wrapper: h.wrapper })
    let synced = 0
    for (let cycle = 0; cycle < 1000; cycle++) {
      view.rerender(<Many on />)
      expect(h.client.size).toBe(50)
      if (cycle % 100 === 0) {
        // Now and then all 50 streams sync and go live, so unmounting aborts requests in flight.
        await waitFor(() => expect(screen.getByTestId('many').textContent).toBe(syncedText))
        synced += 1
      }
      view.rerender(<Many on={false} />)
      // Every third cycle remounts within the grace period (streams kept), the others let them close.
      act(() => h.clock.advance(cycle % 3 === 0 ? GRACE_MS - 1 : GRACE_MS))
      if (cycle % 3 !== 0) expect(h.client.size).toBe(0)
    }
    act(() => h.clock.advance(GRACE_MS))
    expect(synced).toBe(10)
    expect(h.client.size).toBe(0)
    expect(h.clock.pending).toBe(0)
    await h.requests.idle()
    expect(h.requests.open).toBe(0)
    expect(h.requests.initial).toBeGreaterThanOrEqual(10 * 50)
  }, 300_000)
})
