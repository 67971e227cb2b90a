/**
 * `useShapeStatus` as a badge: phase, live transport, fallback reason and the last error.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { sseRunner } from '../src/core/sseRunner'
import { ItemWriter } from './support/ItemWriter'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'

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

const meta = {
  title: 'Live shapes/Status badge',
  render: () => <LiveDemo sse={false} />,
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

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
