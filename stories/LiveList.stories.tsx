/**
 * A live list of the `items` shape, served by the in-page test server; the writer's buttons commit transactions to
 * its memory source and the list follows through the live stream, without reload.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { ItemWriter } from './support/ItemWriter'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'

function Badge() {
  return <StatusBadge source={itemsShape(useStoryFixture().url)} />
}

const meta = {
  title: 'Live shapes/Live list',
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

/** The seed rows, then whatever the buttons write. */
export const Default: Story = {}

/** Insert, update and delete through the buttons; each shows up in the list through the live stream. */
export const WritesAppearLive: Story = {
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
