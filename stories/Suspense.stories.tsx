/**
 * `useSuspenseShape`: the Suspense fallback shows until the shape's first up-to-date. The server here holds every
 * request until you click "Let the server answer", so the fallback stays visible as long as you like.
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import type { ReactNode } from 'react'
import { expect } from 'storybook/test'
import { StoryFixtureProvider, useStoryFixture } from './support/StoryFixture'
import { SuspenseItemList } from './support/SuspenseItemList'

function OpenGateButton(): ReactNode {
  const fixture = useStoryFixture()
  return (
    <button type="button" onClick={() => fixture.openGate()} style={{ marginBottom: 12 }}>
      Let the server answer
    </button>
  )
}

const meta = {
  title: 'Live shapes/Suspense',
  render: () => (
    <StoryFixtureProvider options={{ gated: true }}>
      <OpenGateButton />
      <SuspenseItemList />
    </StoryFixtureProvider>
  ),
} satisfies Meta

export default meta
type Story = StoryObj<typeof meta>

/** Suspended until the button lets the server answer. */
export const Default: Story = {}

/** The fallback, then the rows once the server answers; never an empty list in between. */
export const FallbackThenRows: Story = {
  play: async ({ canvas, userEvent }) => {
    await expect(await canvas.findByTestId('suspense-fallback')).toBeInTheDocument()
    await expect(canvas.queryByTestId('items')).toBeNull()
    await userEvent.click(canvas.getByRole('button', { name: 'Let the server answer' }))
    await expect(await canvas.findByTestId('item-3')).toBeInTheDocument()
    await expect(canvas.getAllByRole('listitem')).toHaveLength(3)
    await expect(canvas.queryByTestId('suspense-fallback')).toBeNull()
  },
}

/** A refused shape (bad `where`) reaches the error boundary instead of suspending forever. */
export const ErrorReachesBoundary: Story = {
  render: () => (
    <StoryFixtureProvider>
      <SuspenseItemList where="no_such_column = 1" />
    </StoryFixtureProvider>
  ),
  play: async ({ canvas }) => {
    await expect(await canvas.findByTestId('boundary-error')).toHaveTextContent(/400|where/i)
  },
}
