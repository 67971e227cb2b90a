/**
 * Optimistic rows with `useShapeMutation`: a new row shows at once as "saving…", turns plain when the stream brings
 * its transaction (confirmed by txid), and disappears again with a message when the server refuses the write.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { OptimisticItemList } from './support/OptimisticItemList'
import { StoryFixtureProvider } from './support/StoryFixture'

const meta = {
  title: 'Live shapes/Optimistic rows',
  render: () => (
    <StoryFixtureProvider>
      <OptimisticItemList />
    </StoryFixtureProvider>
  ),
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** Try the three buttons: confirmed, held (pending until you let it through) and refused (rolled back). */
export const Default: Story = {}

/** Pending, then confirmed, then a refused write rolled back. */
export const PendingConfirmedRolledBack: Story = {
  play: async ({ canvas, userEvent, step }) => {
    await canvas.findByTestId('row-3')
    await step('pending: the held write shows at once, marked saving', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Add item (held by the server)' }))
      const row = await canvas.findByTestId('row-4')
      await expect(row).toHaveTextContent('Held item 4')
      await expect(row).toHaveAttribute('data-pending', 'true')
      await expect(row).toHaveTextContent('saving…')
    })
    await step('confirmed: once written, the stream confirms it and the mark goes', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Let the write through' }))
      await waitFor(() => expect(canvas.getByTestId('row-4')).toHaveAttribute('data-pending', 'false'))
      await expect(canvas.getByTestId('row-4')).not.toHaveTextContent('saving…')
    })
    await step('rolled back: a refused write disappears again, with the reason', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Add refused item' }))
      const alert = await canvas.findByRole('alert')
      await expect(alert).toHaveTextContent('Rolled back: The database refused "Refused item 5"')
      await expect(canvas.queryByTestId('row-5')).toBeNull()
      await expect(canvas.getByTestId('row-4')).toHaveTextContent('Held item 4')
    })
  },
}
