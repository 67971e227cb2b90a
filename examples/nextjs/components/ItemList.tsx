'use client'
/**
 * The list, in two flavours over one view: `ItemList` (`useShape`, for a page whose rows were prefetched and
 * hydrated by `HydrationBoundary`) and `SuspenseItemList` (`useSuspenseShape`, for a streamed page under
 * `StreamedHydration`). The view re-renders when rows are added or removed, or the summary changes; a changed row
 * re-renders only its own `ItemRow`.
 *
 * Invariant:
 * - L1. The add form is rendered by the list, after its shape hook: under `StreamedHydration` the browser drains the
 *   streamed state in `useSuspenseShape`, and a component that looked the shape up before that would create an empty
 *   shape, which then has to load from scratch.
 */
import { useMemo } from 'react'
import { shallow, useShape, useShapeKeys, useSuspenseShape } from 'live-shapes'
import type { Shape, ShapeError, UseShapeResult } from 'live-shapes'
import { itemsShape } from '../lib/items'
import type { Item } from '../lib/items'
import { AddItemForm } from './AddItemForm'
import { ItemRow } from './ItemRow'
import { StatusBadge } from './StatusBadge'

interface Summary {
  shape: Shape<Item> | undefined
  isLoading: boolean
  error: ShapeError | false
  open: number
  total: number
}

function summarize(result: UseShapeResult<Item>): Summary {
  let open = 0
  for (const item of result.data) if (!item.done) open += 1
  return { shape: result.shape, isLoading: result.isLoading, error: result.error, open, total: result.data.length }
}

/** Props of the lists. */
export interface ItemListProps {
  shapeUrl: string
  returnTo: '/' | '/streaming'
}

/** The items of the shape at `shapeUrl`, live; loading state until the first up-to-date. */
export function ItemList({ shapeUrl, returnTo }: ItemListProps) {
  const options = useMemo(() => itemsShape(shapeUrl), [shapeUrl])
  const summary = useShape<Item, Summary>({ ...options, selector: summarize, isEqual: shallow })
  return <ItemListView summary={summary} shapeUrl={shapeUrl} returnTo={returnTo} />
}

/** The same list, suspending until the first up-to-date (put it under `<Suspense>`). */
export function SuspenseItemList({ shapeUrl, returnTo }: ItemListProps) {
  const options = useMemo(() => itemsShape(shapeUrl), [shapeUrl])
  const summary = useSuspenseShape<Item, Summary>({ ...options, selector: summarize, isEqual: shallow })
  return <ItemListView summary={summary} shapeUrl={shapeUrl} returnTo={returnTo} />
}

function ItemListView({ summary, shapeUrl, returnTo }: { summary: Summary } & ItemListProps) {
  const { shape, isLoading, error, open, total } = summary
  const keys = useShapeKeys(shape)
  return (
    <>
      <AddItemForm shapeUrl={shapeUrl} returnTo={returnTo} />
      <section aria-label="items">
        <header className="list-header">
          <span data-testid="summary">{isLoading ? 'Loading…' : `${open} open of ${total}`}</span>
          <StatusBadge shape={shape} />
        </header>
        {error !== false && <p className="error">{error.message}</p>}
        <ul className="items">
          {shape !== undefined && keys.map((key) => <ItemRow key={key} shape={shape} rowKey={key} returnTo={returnTo} />)}
        </ul>
      </section>
    </>
  )
}
