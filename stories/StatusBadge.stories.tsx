/**
 * `useShapeStatus` as a badge: phase, live transport, fallback reason and the last error.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect } from 'storybook/test'
import { ItemWriter } from './support/ItemWriter'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'

function Badge() {
  return <StatusBadge source={itemsShape(useStoryFixture().url)} />
}

const meta = {
  title: 'Live shapes/Status badge',
  render: () => (
    <StoryFixtureProvider>
      <Badge />
      <ItemWriter />
      <LiveItemList />
    </StoryFixtureProvider>
  ),
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

/** Before the server answers, the badge says `connecting` and nothing is up to date. */
export const BeforeTheServerAnswers: Story = {
  render: () => (
    <StoryFixtureProvider options={{ gated: true }}>
      <Badge />
      <LiveItemList />
    </StoryFixtureProvider>
  ),
  play: async ({ canvas }) => {
    await expect(await canvas.findByTestId('status-phase')).toHaveTextContent('connecting')
    await expect(canvas.getByTestId('status-up-to-date')).toHaveTextContent('not up to date')
    await expect(canvas.getByTestId('items-loading')).toBeInTheDocument()
  },
}
