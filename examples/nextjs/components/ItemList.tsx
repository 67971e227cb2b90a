'use client'
/**
 * The list: it re-renders when rows are added or removed, or the summary changes; a changed row re-renders only
 * its own `ItemRow`.
 */
import { useMemo } from 'react'
import { shallow, useShape, useShapeKeys } from 'live-shapes'
import type { Shape, ShapeError, UseShapeResult } from 'live-shapes'
import { itemsShape } from '../lib/items'
import type { Item } from '../lib/items'
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

/** The items of the shape at `shapeUrl`, live. */
export function ItemList({ shapeUrl }: { shapeUrl: string }) {
  const options = useMemo(() => itemsShape(shapeUrl), [shapeUrl])
  const { shape, isLoading, error, open, total } = useShape<Item, Summary>({
    ...options,
    selector: summarize,
    isEqual: shallow,
  })
  const keys = useShapeKeys(shape)
  return (
    <section aria-label="items">
      <header className="list-header">
        <span data-testid="summary">
          {isLoading ? 'Loading…' : `${open} open of ${total}`}
        </span>
        <StatusBadge shape={shape} />
      </header>
      {error !== false && <p className="error">{error.message}</p>}
      <ul className="items">
        {shape !== undefined && keys.map((key) => <ItemRow key={key} shape={shape} rowKey={key} />)}
      </ul>
    </section>
  )
}
