/**
 * Two providers with their own clients share nothing: each opens its own stream for the same options, and one
 * unmounting leaves the other live.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { act, cleanup, render, screen } from '@testing-library/react'
import { ShapeClient } from '../../src/core/index'
import { ShapeClientProvider, useShape, useShapeStatus } from '../../src/react/index'
import { countingFetch } from './support/countingFetch'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'
import { createManualClock } from './support/manualClock'

let harness: Harness | undefined
const disposers: (() => void)[] = []
afterEach(async () => {
  cleanup()
  for (const dispose of disposers.splice(0)) dispose()
  await harness?.close()
  harness = undefined
})

describe('two providers', () => {
  it('each client opens its own stream for the same options; unmounting one leaves the other live', async () => {
    harness = createHarness(makeItems(1))
    const h = harness
    const otherClock = createManualClock()
    const otherRequests = countingFetch(h.server.fetch)
    const other = new ShapeClient({ fetch: otherRequests.fetch, clock: otherClock, random: () => 0.5, visibility: null })
    disposers.push(() => other.dispose())
    function Titles({ label }: { label: string }) {
      const { data } = useShape<Item>(h.options())
      const status = useShapeStatus(h.options())
      return <p>{`${label}:${status.phase}:${data.map((row) => row.title).join(',')}`}</p>
    }
    function App({ showA }: { showA: boolean }) {
      return (
        <>
          {showA ? (
            <ShapeClientProvider client={h.client}>
              <Titles label="a" />
            </ShapeClientProvider>
          ) : null}
          <ShapeClientProvider client={other}>
            <Titles label="b" />
          </ShapeClientProvider>
        </>
      )
    }
    const view = render(<App showA />)
    await screen.findByText('a:live:item 1')
    await screen.findByText('b:live:item 1')
    expect(h.requests.initial).toBe(1)
    expect(otherRequests.initial).toBe(1)
    expect(h.client.size).toBe(1)
    expect(other.size).toBe(1)
    expect(h.client.shape(h.options())).not.toBe(other.shape(h.options()))

    view.rerender(<App showA={false} />)
    act(() => h.clock.advance(10_000))
    expect(h.client.size).toBe(0)
    await h.requests.idle()
    await act(async () => {
      await h.server.insert(h.table, { id: 2, title: 'item 2', done: false })
    })
    await screen.findByText('b:live:item 1,item 2')
    expect(other.size).toBe(1)
    expect(otherRequests.open).toBe(1)
  })
})
