/**
 * A live list of the `items` shape, served by the in-page test server; the auto-writer and the writer's buttons
 * commit transactions to its memory source and the list follows through the live stream, without reload.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { AutoWriter } from './support/AutoWriter'
import { ItemWriter } from './support/ItemWriter'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'

function Badge() {
  return <StatusBadge source={itemsShape(useStoryFixture().url)} />
}

interface LiveListArgs {
  /** Another user writes every 900 ms (toggle it in the story too). */
  autoWrite: boolean
}

/**
 * `useShape` over the `items` shape: the rows stay live in the component. Every story has its own in-page shape
 * server (memory source + the real `/v1/shape` handler), so nothing is shared between stories.
 */
const meta = {
  title: 'Live shapes/Live list',
  // No docs page: Storybook opens on the first entry, which is then this list's Default story (the introduction
  // embeds it and explains it).
  tags: ['!autodocs'],
  args: { autoWrite: true },
  render: ({ autoWrite }: LiveListArgs) => (
    <StoryFixtureProvider>
      <Badge />
      <AutoWriter initiallyRunning={autoWrite} />
      <ItemWriter />
      <LiveItemList />
    </StoryFixtureProvider>
  ),
} satisfies Meta<LiveListArgs>

export default meta
type Story = StoryObj<typeof meta>

/** The list moves by itself: another user (the auto-writer) inserts, updates and deletes; stop it with its toggle. */
export const Default: Story = {
  play: async ({ canvas }) => {
    await expect(await canvas.findByTestId('item-1')).toBeInTheDocument()
    await waitFor(() => expect(canvas.getByTestId('items')).toHaveTextContent(/· v[2-9]|#4 /), { timeout: 10_000 })
  },
}

/** The auto-writer's toggle stops and restarts the writes. */
export const AutoWriterToggle: Story = {
  play: async ({ canvas, userEvent }) => {
    await userEvent.click(await canvas.findByRole('button', { name: 'Stop the auto-writer' }))
    await expect(canvas.getByTestId('auto-writes')).toHaveTextContent('auto-writer stopped')
    await userEvent.click(canvas.getByRole('button', { name: 'Start the auto-writer' }))
    await expect(canvas.getByTestId('auto-writes')).toHaveTextContent('writing every')
    await waitFor(() => expect(canvas.getByTestId('auto-writes')).toHaveTextContent(/· [1-9]\d* writes/), { timeout: 10_000 })
  },
}

/** Insert, update and delete through the buttons; each shows up in the list through the live stream. */
export const WritesAppearLive: Story = {
  args: { autoWrite: false },
  play: async ({ canvas, userEvent, step }) => {
    await step('initial rows', async () => {
      await expect(await canvas.findByTestId('item-3')).toHaveTextContent('#3 Ship it · v1')
      await expect(canvas.getAllByRole('listitem')).toHaveLength(3)
      await expect(await canvas.findByText('live')).toBeInTheDocument()
    })
    await step('insert', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Insert item' }))
      await expect(await canvas.findByTestId('item-4')).toHaveTextContent('#4 Item 4 · v1')
    })
    await step('update', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Update first' }))
      await expect(await canvas.findByText('#1 Buy milk · v2')).toBeInTheDocument()
    })
    await step('delete', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Delete last' }))
      await waitFor(() => expect(canvas.queryByTestId('item-4')).toBeNull())
      await expect(canvas.getAllByRole('listitem')).toHaveLength(3)
    })
  },
}
