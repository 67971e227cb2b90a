/**
 * The plain way to show a shape: `useShape` and a list of its `data`.
 */
import type { ReactNode } from 'react'
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
  if (error) return <p role="alert">Could not load items: {error.message}</p>
  if (isLoading) return <p data-testid="items-loading">Loading items…</p>
  return <ItemsView items={data} />
}
