/**
 * The per-row way to show a shape: the list subscribes to its keys, each memoized row to its own row. Every component
 * shows how many times it rendered, so a story (and a test) can see that a one-row update re-renders one row.
 *
 * Invariant:
 * - The counters count renders, not commits: a ref bumped in the render body. Storybook renders without
 *   StrictMode, so each number is exactly the component's render count.
 */
import { memo, useRef } from 'react'
import type { ReactNode } from 'react'
import { useShape, useShapeKeys, useShapeRow } from '../../src/index'
import type { Shape } from '../../src/index'
import { itemsShape } from './itemsShape'
import { useStoryFixture } from './StoryFixture'
import type { Item } from './storyFixture'

function useRenderCount(): number {
  const renders = useRef(0)
  renders.current += 1
  return renders.current
}

interface ItemRowProps {
  shape: Shape<Item>
  rowKey: string
}

const ItemRow = memo(function ItemRow({ shape, rowKey }: ItemRowProps): ReactNode {
  const renders = useRenderCount()
  const item = useShapeRow(shape, rowKey)
  const fixture = useStoryFixture()
  if (item === undefined) return null
  return (
    <li data-testid={`row-${item.id}`} data-renders={renders} style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
      <span style={{ minWidth: 220 }}>
        #{item.id} {item.title} · v{item.version}
      </span>
      <span>
        renders: <strong data-testid={`renders-${item.id}`}>{renders}</strong>
      </span>
      <button type="button" aria-label={`Bump item ${item.id}`} onClick={() => fixture.updateItem(item.id)}>
        Bump
      </button>
    </li>
  )
})

function selectShape(result: { shape: Shape<Item> | undefined }): Shape<Item> | undefined {
  return result.shape
}

/**
 * The story's items, one memoized `useShapeRow` component per key, with render counts.
 * @example
 * <StoryFixtureProvider><PerRowItemList /></StoryFixtureProvider>
 */
export function PerRowItemList(): ReactNode {
  const renders = useRenderCount()
  const fixture = useStoryFixture()
  const shape = useShape<Item, Shape<Item> | undefined>({ ...itemsShape(fixture.url), selector: selectShape })
  const keys = useShapeKeys(shape)
  return (
    <section aria-label="Per-row items">
      <p>
        list renders: <strong data-testid="list-renders">{renders}</strong> · rows: <span data-testid="row-count">{keys.length}</span>
      </p>
      <ul style={{ display: 'grid', gap: 6, padding: 0, listStyle: 'none' }}>
        {shape !== undefined && keys.map((key) => <ItemRow key={key} shape={shape} rowKey={key} />)}
      </ul>
    </section>
  )
}
