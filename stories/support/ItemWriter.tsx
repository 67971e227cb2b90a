/**
 * Buttons that write to the story's in-page source, as another user's transaction would: the list below must show
 * each write through the live stream, never through local state.
 */
import type { ReactNode } from 'react'
import { useStoryFixture } from './StoryFixture'

/**
 * Insert / update / delete buttons over the fixture's `items` table.
 * @example
 * <StoryFixtureProvider><ItemWriter /><LiveItemList /></StoryFixtureProvider>
 */
export function ItemWriter(): ReactNode {
  const fixture = useStoryFixture()
  const first = (): number | undefined => fixture.itemIds()[0]
  const last = (): number | undefined => fixture.itemIds().at(-1)
  return (
    <div role="toolbar" aria-label="Writer" className="row">
      <button type="button" onClick={() => fixture.insertItem()}>
        Insert item
      </button>
      <button
        type="button"
        onClick={() => {
          const id = first()
          if (id !== undefined) fixture.updateItem(id)
        }}
      >
        Update first
      </button>
      <button
        type="button"
        onClick={() => {
          const id = last()
          if (id !== undefined) fixture.deleteItem(id)
        }}
      >
        Delete last
      </button>
    </div>
  )
}
