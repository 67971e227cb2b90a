/**
 * In real Chromium: the live transport the status reports is the one on the wire. Long-polling by default; with
 * `liveSse` and the core's SSE runner, live requests are `text/event-stream` responses streamed through the page's
 * `fetch` body reader, the status says `sse`, and changes arrive over that stream.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { page } from 'vitest/browser'
import { sseRunner } from '../../src/core/sseRunner'
import { LiveItemList } from '../../stories/support/LiveItemList'
import { StatusBadge } from '../../stories/support/StatusBadge'
import { itemsShape } from '../../stories/support/itemsShape'
import type { StoryFixtureOptions } from '../../stories/support/storyFixture'
import { createBrowserHarness } from './support/mount'

const harness = createBrowserHarness()
afterEach(() => harness.cleanup())

interface SeenResponse {
  live: string | null
  liveSse: string | null
  contentType: string | null
}

/** Fixture options recording every live response the server gave the client. */
function recordingLiveResponses(): { seen: SeenResponse[]; options: Pick<StoryFixtureOptions, 'onResponse'> } {
  const seen: SeenResponse[] = []
  const onResponse = (url: string, response: Response): void => {
    const search = new URL(url).searchParams
    if (search.get('live') !== 'true') return
    seen.push({ live: search.get('live'), liveSse: search.get('live_sse'), contentType: response.headers.get('content-type') })
  }
  return { seen, options: { onResponse } }
}

describe('live transport in Chromium', () => {
  it('long-polls by default and says so', async () => {
    const { seen, options } = recordingLiveResponses()
    const fixture = harness.fixture(options)
    harness.mount(
      fixture,
      <>
        <StatusBadge source={itemsShape(fixture.url)} />
        <LiveItemList />
      </>,
    )
    await expect.element(page.getByTestId('status-phase')).toHaveTextContent('live')
    await expect.element(page.getByTestId('status-transport')).toHaveTextContent('long-poll')
    fixture.insertItem('By long-poll')
    await expect.element(page.getByTestId('item-4')).toHaveTextContent('By long-poll')
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((response) => response.liveSse === null && response.contentType?.startsWith('application/json'))).toBe(true)
  })

  it('streams live changes over SSE when liveSse is on, and the status says sse', async () => {
    const { seen, options } = recordingLiveResponses()
    const fixture = harness.fixture({ ...options, liveSse: true, liveRunner: sseRunner })
    harness.mount(
      fixture,
      <>
        <StatusBadge source={itemsShape(fixture.url)} />
        <LiveItemList />
      </>,
    )
    await expect.element(page.getByTestId('item-3')).toBeInTheDocument()
    await expect.element(page.getByTestId('status-transport')).toHaveTextContent('sse')
    await expect.element(page.getByTestId('status-phase')).toHaveTextContent('live')

    fixture.insertItem('By SSE')
    await expect.element(page.getByTestId('item-4')).toHaveTextContent('By SSE')
    fixture.updateItem(4)
    await expect.element(page.getByTestId('item-4')).toHaveTextContent('#4 By SSE · v2')
    fixture.deleteItem(4)
    await expect.element(page.getByTestId('item-4')).not.toBeInTheDocument()

    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((response) => response.liveSse === 'true' && response.contentType?.startsWith('text/event-stream'))).toBe(true)
    expect(page.getByTestId('status-fallback').query()).toBeNull()
  })
})
