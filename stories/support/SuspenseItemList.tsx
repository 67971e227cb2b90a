/**
 * `useSuspenseShape` under `<Suspense>` and an error boundary: the fallback shows until the first up-to-date, a
 * failure before any rows reaches the boundary.
 */
import { Component, Suspense } from 'react'
import type { ReactNode } from 'react'
import { useSuspenseShape } from '../../src/index'
import { itemsShape } from './itemsShape'
import { ItemsView } from './ItemsView'
import { useStoryFixture } from './StoryFixture'
import type { Item } from './storyFixture'

interface BoundaryState {
  error: Error | undefined
}

/** Shows the error a child threw instead of the child. */
class ErrorBoundary extends Component<{ children?: ReactNode }, BoundaryState> {
  override state: BoundaryState = { error: undefined }

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  override render(): ReactNode {
    const { error } = this.state
    if (error === undefined) return this.props.children
    return (
      <p role="alert" data-testid="boundary-error">
        {error.message}
      </p>
    )
  }
}

function SuspendedItems({ where }: { where: string | undefined }): ReactNode {
  const fixture = useStoryFixture()
  const { data } = useSuspenseShape<Item>(itemsShape(fixture.url, { where }))
  return <ItemsView items={data} />
}

/** Props of `SuspenseItemList`. */
export interface SuspenseItemListProps {
  where?: string
}

/**
 * The items, suspended until synced.
 * @example
 * <StoryFixtureProvider><SuspenseItemList /></StoryFixtureProvider>
 */
export function SuspenseItemList({ where }: SuspenseItemListProps): ReactNode {
  return (
    <ErrorBoundary>
      <Suspense fallback={<p data-testid="suspense-fallback">Syncing items…</p>}>
        <SuspendedItems where={where} />
      </Suspense>
    </ErrorBoundary>
  )
}
