/**
 * `useShapeStatus` as a badge, one story per phase: idle, connecting, syncing, live (long-poll and SSE), paused,
 * refetching, error with a retry countdown, error that stops, and the SSE fallback with its reason. Each phase is
 * held by scripting the story's requests (`intercept`), so it stays on screen as long as you look.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { useState } from 'react'
import type { ReactNode } from 'react'
import { expect, waitFor } from 'storybook/test'
import { sseRunner } from '../src/core/sseRunner'
import { useShape } from '../src/index'
import type { VisibilityAdapter } from '../src/index'
import { ItemWriter } from './support/ItemWriter'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'
import { holdUntilAborted } from './support/storyFixture'
import type { InterceptedRequest, StoryFixtureOptions } from './support/storyFixture'

function Badge() {
  return <StatusBadge source={itemsShape(useStoryFixture().url)} />
}

function LiveDemo({ sse, cutSse = false }: { sse: boolean; cutSse?: boolean }) {
  const options = sse ? { liveSse: true, liveRunner: sseRunner, ...(cutSse ? { sseTimeoutMs: 5 } : {}) } : {}
  return (
    <StoryFixtureProvider options={options}>
      <Badge />
      <ItemWriter />
      <LiveItemList />
    </StoryFixtureProvider>
  )
}

/**
 * The demo page's status badge over `useShapeStatus`: `phase`, `transport`, `fallbackReason`, `isUpToDate`, the last
 * `error` (code, HTTP status, a sentence without the request URL) and a countdown to `nextRetryAt`.
 */
const meta = {
  title: 'Live shapes/Status badge',
  component: StatusBadge,
  // The stories render the badge themselves, each over its own fixture's shape; `component` is for the docs page.
  args: { source: undefined },
  render: () => <LiveDemo sse={false} />,
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** Nothing holds the shape yet (`enabled: false`): `idle`. Subscribing starts the stream. */
export const Idle: Story = {
  render: () => (
    <StoryFixtureProvider>
      <IdleThenSubscribe />
    </StoryFixtureProvider>
  ),
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByTestId('status-phase')).toHaveTextContent('idle')
    await userEvent.click(canvas.getByRole('button', { name: 'Subscribe' }))
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
  },
}

function IdleThenSubscribe(): ReactNode {
  const fixture = useStoryFixture()
  const [enabled, setEnabled] = useState(false)
  return (
    <>
      <StatusBadge source={{ ...itemsShape(fixture.url), enabled }} />
      {enabled ? <LiveItemList /> : <button type="button" onClick={() => setEnabled(true)}>Subscribe</button>}
    </>
  )
}

/**
 * Before the server answers, the badge says `connecting` and nothing is up to date.
 *
 * The play waits for `connecting` instead of reading the badge's first render. On the dev server Storybook mounts a
 * story inside React's `act()`, which flushes the effects (the fixture's creation, then the hooks' `retain()`) before
 * the play starts; the static build runs production React, where `act()` is a no-op, so `findByTestId` resolves on
 * the first commit of the badge, which still says `idle`: the stream is retained in a passive effect that runs after
 * that commit (`useRetainedShape`). With the server held, `connecting` is then the state for as long as you look.
 */
export const BeforeTheServerAnswers: Story = {
  render: () => (
    <StoryFixtureProvider options={{ gated: true }}>
      <Badge />
      <LiveItemList />
    </StoryFixtureProvider>
  ),
  play: async ({ canvas }) => {
    await waitFor(() => expect(canvas.getByTestId('status-phase')).toHaveTextContent('connecting'))
    await expect(canvas.getByTestId('status-up-to-date')).toHaveTextContent('not up to date')
    await expect(canvas.getByTestId('items-loading')).toBeInTheDocument()
  },
}

/** The snapshot arrived but the server has not said `up-to-date` yet (its catch-up is held): `syncing`, no rows shown. */
export const Syncing: Story = {
  render: () => (
    <StoryFixtureProvider options={{ intercept: snapshotWithoutUpToDate }}>
      <Badge />
      <LiveItemList />
    </StoryFixtureProvider>
  ),
  play: async ({ canvas }) => {
    await waitFor(() => expect(canvas.getByTestId('status-phase')).toHaveTextContent('syncing'))
    await expect(canvas.getByTestId('status-up-to-date')).toHaveTextContent('not up to date')
    await expect(canvas.getByTestId('items-loading')).toBeInTheDocument()
  },
}

function snapshotWithoutUpToDate({ index, signal, pass }: InterceptedRequest): Promise<Response> {
  if (index > 0) return holdUntilAborted(signal)
  return pass().then(async (response) => {
    const messages = (await response.json()) as { headers: { control?: string } }[]
    const headers = new Headers(response.headers)
    headers.delete('electric-up-to-date')
    const body = JSON.stringify(messages.filter((message) => message.headers.control !== 'up-to-date'))
    return new Response(body, { status: response.status, headers })
  })
}

/** Connecting, syncing, then live over long-polling once the snapshot is up to date. */
export const LongPoll: Story = {
  play: async ({ canvas }) => {
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
    await expect(canvas.getByTestId('status-transport')).toHaveTextContent('long-poll')
    await expect(canvas.getByTestId('status-up-to-date')).toHaveTextContent('up to date')
    await expect(canvas.queryByTestId('status-error')).toBeNull()
    await expect(canvas.queryByTestId('status-fallback')).toBeNull()
  },
}

/** Live over SSE: the client's `liveSse` with the core's SSE runner; writes arrive over the event stream. */
export const Sse: Story = {
  render: () => <LiveDemo sse />,
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByText('sse')).toHaveAttribute('data-testid', 'status-transport')
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
    await userEvent.click(canvas.getByRole('button', { name: 'Insert item' }))
    await expect(await canvas.findByTestId('item-4')).toHaveTextContent('#4 Item 4 · v1')
    await expect(canvas.queryByTestId('status-fallback')).toBeNull()
  },
}

/** The page is hidden (another tab): the client stops its requests and says `paused`; showing the page resumes it. */
export const Paused: Story = {
  render: () => <PausedWhileHidden />,
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
    await userEvent.click(canvas.getByRole('button', { name: 'Hide the page' }))
    await waitFor(() => expect(canvas.getByTestId('status-phase')).toHaveTextContent('paused'))
    await userEvent.click(canvas.getByRole('button', { name: 'Show the page' }))
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
  },
}

function PausedWhileHidden(): ReactNode {
  const [page] = useState(fakeVisibility)
  const [hidden, setHidden] = useState(false)
  const toggle = (): void => {
    page.set(!hidden)
    setHidden(!hidden)
  }
  return (
    <StoryFixtureProvider options={{ visibility: page }}>
      <Badge />
      <div className="row">
        <button type="button" onClick={toggle}>
          {hidden ? 'Show the page' : 'Hide the page'}
        </button>
      </div>
      <LiveItemList />
    </StoryFixtureProvider>
  )
}

/** A page visibility the story switches (the client's `visibility` option). */
function fakeVisibility(): VisibilityAdapter & { set(hidden: boolean): void } {
  const listeners = new Set<() => void>()
  let hidden = false
  return {
    isHidden: () => hidden,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(next) {
      hidden = next
      listeners.forEach((listener) => listener())
    },
  }
}

/** The shape was deleted on the server (a truncate does the same): 409, `refetching`, the old rows stay shown. */
export const Refetching: Story = {
  render: () => <RefetchHeld />,
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByText('live')).toHaveAttribute('data-testid', 'status-phase')
    await userEvent.click(canvas.getByRole('button', { name: 'Invalidate the shape (409)' }))
    await waitFor(() => expect(canvas.getByTestId('status-phase')).toHaveTextContent('refetching'))
    await expect(canvas.getByTestId('item-3')).toBeInTheDocument()
  },
}

function RefetchHeld(): ReactNode {
  // The first snapshot goes through; the one after the 409 is held, so `refetching` stays on screen.
  const [options] = useState<StoryFixtureOptions>(() => ({
    intercept: ({ url, index, signal }) => (index > 0 && url.searchParams.get('offset') === '-1' ? holdUntilAborted(signal) : undefined),
  }))
  return (
    <StoryFixtureProvider options={options}>
      <Badge />
      <InvalidateButton />
      <LiveItemList />
    </StoryFixtureProvider>
  )
}

function InvalidateButton(): ReactNode {
  const fixture = useStoryFixture()
  return (
    <div className="row">
      <button type="button" onClick={() => void fixture.invalidate()}>
        Invalidate the shape (409)
      </button>
    </div>
  )
}

/**
 * The server answers 503 with `retry-after: 30`: `retrying` with the HTTP status and a countdown to the next retry
 * (`nextRetryAt`); the rows already shown stay. Once the server is back, Retry now (`shape.retryNow()`) goes live
 * without waiting out the countdown.
 */
export const RetryCountdown: Story = {
  render: () => <OutageAfterSync />,
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByTestId('item-3')).toBeInTheDocument()
    await userEvent.click(canvas.getByRole('button', { name: 'Take the server down' }))
    await expect(await canvas.findByTestId('status-retry', {}, { timeout: 5000 })).toHaveTextContent(/retrying in \d+ s/)
    await expect(canvas.getByTestId('status-phase')).toHaveTextContent(/^retrying$/)
    await expect(canvas.getByTestId('status-error-http')).toHaveTextContent('503')
    await expect(canvas.getByTestId('item-3')).toBeInTheDocument()
    await userEvent.click(canvas.getByRole('button', { name: 'Bring the server back' }))
    await userEvent.click(canvas.getByRole('button', { name: 'Retry now' }))
    await expect(await canvas.findByText('live', {}, { timeout: 5000 })).toHaveAttribute('data-testid', 'status-phase')
    await expect(canvas.queryByTestId('status-retry')).not.toBeInTheDocument()
  },
}

function OutageAfterSync(): ReactNode {
  const [outage] = useState(() => ({ on: false }))
  const [options] = useState<StoryFixtureOptions>(() => ({
    // Short live requests, so the next one meets the outage soon after the button.
    longPollTimeoutMs: 300,
    intercept: () =>
      outage.on
        ? Promise.resolve(
            new Response(JSON.stringify({ message: 'Service unavailable' }), {
              status: 503,
              headers: { 'content-type': 'application/json', 'retry-after': '30' },
            }),
          )
        : undefined,
  }))
  const [down, setDown] = useState(false)
  const toggle = (): void => {
    outage.on = !outage.on
    setDown(outage.on)
  }
  return (
    <StoryFixtureProvider options={options}>
      <OutageBadge />
      <div className="row">
        <button type="button" onClick={toggle}>
          {down ? 'Bring the server back' : 'Take the server down'}
        </button>
      </div>
      <LiveItemList />
    </StoryFixtureProvider>
  )
}

function OutageBadge(): ReactNode {
  // The badge holds the page's own shape, the one its Retry button calls `retryNow()` on.
  const { shape } = useShape(itemsShape(useStoryFixture().url))
  return <StatusBadge source={shape} />
}

/**
 * A server (or proxy) that ends every SSE stream at once: after three short connections the client falls back to
 * long-polling, says why, and keeps following writes.
 */
export const SseFallback: Story = {
  render: () => <LiveDemo sse cutSse />,
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByTestId('status-fallback', {}, { timeout: 5000 })).toHaveTextContent(/long-polling/)
    await expect(canvas.getByTestId('status-transport')).toHaveTextContent('long-poll')
    await userEvent.click(canvas.getByRole('button', { name: 'Insert item' }))
    await expect(await canvas.findByTestId('item-4')).toHaveTextContent('#4 Item 4 · v1')
  },
}
