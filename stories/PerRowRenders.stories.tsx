/**
 * One memoized `useShapeRow` component per row, each showing its render count: bumping one row re-renders that row
 * only; the list itself re-renders only when membership changes (insert/delete).
 */
import type { Meta, StoryObj } from '@storybook/react-vite'
import { expect, waitFor } from 'storybook/test'
import { AutoWriter } from './support/AutoWriter'
import { ItemWriter } from './support/ItemWriter'
import { PerRowItemList } from './support/PerRowItemList'
import { StoryFixtureProvider } from './support/StoryFixture'

interface PerRowArgs {
  /** Another user writes every 900 ms (toggle it in the story too). */
  autoWrite: boolean
}

/**
 * `useShapeKeys` for the list and `useShapeRow` in one memoized component per row, each showing its render count: a
 * changed row re-renders that row only; the list re-renders only when rows come or go.
 */
const meta = {
  title: 'Live shapes/Per-row renders',
  args: { autoWrite: true },
  render: ({ autoWrite }: PerRowArgs) => (
    <StoryFixtureProvider>
      <AutoWriter initiallyRunning={autoWrite} />
      <ItemWriter />
      <PerRowItemList />
    </StoryFixtureProvider>
  ),
} satisfies Meta<PerRowArgs>

export default meta
type Story = StoryObj<typeof meta>

/** The auto-writer changes one row at a time: only that row's counter moves. Click "Bump" on any row too. */
export const Default: Story = {}

/** Bumping row 2 re-renders row 2 once and nothing else; an insert renders the new row and the list, not the others. */
export const OneRowRerendersPerChange: Story = {
  args: { autoWrite: false },
  play: async ({ canvas, userEvent, step }) => {
    const renders = (id: number): string | null => canvas.getByTestId(`renders-${id}`).textContent
    await step('initial rows render once each', async () => {
      await canvas.findByTestId('row-3')
      await expect([renders(1), renders(2), renders(3)]).toEqual(['1', '1', '1'])
    })
    const listRenders = canvas.getByTestId('list-renders').textContent
    await step('bump row 2', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Bump item 2' }))
      await expect(await canvas.findByText('#2 Write stories · v2')).toBeInTheDocument()
      await expect([renders(1), renders(2), renders(3)]).toEqual(['1', '2', '1'])
      await expect(canvas.getByTestId('list-renders').textContent).toBe(listRenders)
    })
    await step('insert a row', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Insert item' }))
      await expect(await canvas.findByTestId('row-4')).toBeInTheDocument()
      await expect([renders(1), renders(2), renders(3), renders(4)]).toEqual(['1', '2', '1', '1'])
      await waitFor(() => expect(canvas.getByTestId('row-count').textContent).toBe('4'))
    })
  },
}
