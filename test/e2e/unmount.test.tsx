/**
 * In real Chromium: unmounting the last component that uses a shape ends its live connection (a held long-poll or
 * an open SSE stream) once the client's grace period has passed, and the client forgets the shape.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { page } from 'vitest/browser'
import { sseRunner } from '../../src/core/sseRunner'
import { LiveItemList } from '../../stories/support/LiveItemList'
import type { StoryFixtureOptions } from '../../stories/support/storyFixture'
import { createBrowserHarness } from './support/mount'

const harness = createBrowserHarness()
afterEach(() => harness.cleanup())

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** Fixture options that keep the signal of every live request, and resolve when the first one was sent. */
function capturingLiveRequests(): { signals: AbortSignal[]; firstLive: Promise<void>; options: Pick<StoryFixtureOptions, 'onRequest'> } {
  const signals: AbortSignal[] = []
  let sent = (): void => {}
  const firstLive = new Promise<void>((resolve) => (sent = resolve))
  const onRequest = (url: string, signal: AbortSignal | undefined): void => {
    if (new URL(url).searchParams.get('live') !== 'true' || signal === undefined) return
    signals.push(signal)
    sent()
  }
  return { signals, firstLive, options: { onRequest } }
}

describe('unmount in Chromium', () => {
  for (const transport of ['long-poll', 'sse'] as const) {
    it(`ends the live ${transport} connection after the grace period`, async () => {
      const { signals, firstLive, options } = capturingLiveRequests()
      const fixture = harness.fixture({
        ...options,
        gracePeriodMs: 50,
        ...(transport === 'sse' ? { liveSse: true, liveRunner: sseRunner } : {}),
      })
      const root = harness.mount(fixture, <LiveItemList />)
      await expect.element(page.getByTestId('item-3')).toBeInTheDocument()
      await firstLive
      const live = signals.at(-1)
      expect(live?.aborted).toBe(false)
      expect(fixture.client.size).toBe(1)

      root.unmount()
      await aborted(live as AbortSignal)
      expect(signals.every((signal) => signal.aborted)).toBe(true)
      expect(fixture.client.size).toBe(0)
    })
  }
})
