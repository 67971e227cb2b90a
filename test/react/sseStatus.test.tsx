import { describe, it, expect, afterEach } from 'vitest'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { SSE_SHORT_BACKOFF_MAX_MS } from '../../src/core/sseFallback'
import { sseRunner } from '../../src/core/sseRunner'
import { useShape, useShapeStatus } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

describe('useShapeStatus with SSE', () => {
  it('shows sse while it works, then long-poll with the reason once the server keeps cutting SSE short; rows keep arriving', async () => {
    // The client's clock never moves on its own, so every SSE connection counts as short (0 ms) for the policy.
    harness = createHarness(makeItems(2), { liveSse: true, liveRunner: sseRunner }, { sseTimeoutMs: 200 })
    const h = harness
    const texts: string[] = []
    function Live() {
      const result = useShape<Item>(h.options())
      const status = useShapeStatus(result.shape)
      const text = `${status.phase}:${status.transport}:${status.fallbackReason ?? '-'}:${result.data.length}`
      if (texts.at(-1) !== text) texts.push(text)
      return <p data-testid="live">{text}</p>
    }
    render(<Live />, { wrapper: h.wrapper })
    await screen.findByText('live:sse:-:2')
    act(() => h.server.source.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('live:sse:-:3')

    // Between short connections the runner waits on the client's clock: move it only to such a wait (not to a
    // request's 45 s deadline, which is always pending), so each connection itself still lasts 0 ms on that clock.
    await waitFor(
      () => {
        const due = h.clock.nextDueIn()
        if (due !== undefined && due <= SSE_SHORT_BACKOFF_MAX_MS) act(() => h.clock.advance(due))
        expect(screen.getByTestId('live').textContent).toMatch(/^live:long-poll:[^-].*:3$/)
      },
      { timeout: 15_000 },
    )
    const fellBack = screen.getByTestId('live').textContent ?? ''
    act(() => h.server.source.insert(h.table, { id: 4, title: 'item 4', done: false }))
    await screen.findByText(fellBack.replace(/:3$/, ':4'))
    expect(texts.some((text) => text.startsWith('live:sse:'))).toBe(true)
  }, 30_000)
})
