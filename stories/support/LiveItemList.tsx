/**
 * The plain way to show a shape: `useShape` and a list of its `data`.
 */
import type { ReactNode } from 'react'
import { describeError } from '../../demo/StatusBadge'
import { useShape } from '../../src/index'
import { itemsShape } from './itemsShape'
import { ItemsView } from './ItemsView'
import { useStoryFixture } from './StoryFixture'
import type { Item } from './storyFixture'

/** Props of `LiveItemList`. */
export interface LiveItemListProps {
  where?: string
}

/**
 * Every item of the story's shape, live.
 * @example
 * <StoryFixtureProvider><LiveItemList /></StoryFixtureProvider>
 */
export function LiveItemList({ where }: LiveItemListProps): ReactNode {
  const fixture = useStoryFixture()
  const { data, isLoading, error } = useShape<Item>(itemsShape(fixture.url, { where }))
  // Rows already shown stay while the stream retries; the error itself is the badge's to show, without the URL.
  if (error && isLoading) return <p role="alert">Could not load items: {describeError(error)}</p>
  if (isLoading) return <p data-testid="items-loading">Loading items…</p>
  return <ItemsView items={data} />
}
