/**
 * A shape the server refuses: a `where` naming a column the table does not have gets a 400, which the client raises
 * as a typed `ShapeRequestError` (`code: 'bad-request'`, not retried) shown by the badge and the list.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect } from 'storybook/test'
import { LiveItemList } from './support/LiveItemList'
import { StatusBadge } from './support/StatusBadge'
import { itemsShape } from './support/itemsShape'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'

const BAD_WHERE = 'no_such_column = 1'

function Badge() {
  return <StatusBadge source={itemsShape(useStoryFixture().url, { where: BAD_WHERE })} />
}

const meta = {
  title: 'Live shapes/Error',
  render: () => (
    <StoryFixtureProvider>
      <Badge />
      <LiveItemList where={BAD_WHERE} />
    </StoryFixtureProvider>
  ),
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** The 400 is shown as a typed error and the stream stops (no retry). */
export const BadWhere: Story = {
  play: async ({ canvas }) => {
    await expect(await canvas.findByTestId('status-error-code')).toHaveTextContent('bad-request')
    await expect(canvas.getByTestId('status-phase')).toHaveTextContent('error')
    await expect(canvas.getByTestId('status-error-http')).toHaveTextContent('400')
    await expect(canvas.getByTestId('status-error-message')).toHaveTextContent(/where/i)
    await expect(canvas.getByText(/Could not load items/)).toBeInTheDocument()
  },
}
