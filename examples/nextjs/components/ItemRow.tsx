'use client'
/**
 * One row, subscribed to its own key: a change to another row does not re-render it.
 */
import { memo, useState } from 'react'
import { useShapeRow } from 'live-shapes'
import type { Shape } from 'live-shapes'
import type { Item } from '../lib/items'
import { writeItem } from '../lib/writeItem'
import type { ItemWrite } from '../lib/writeItem'

const PRIORITY = ['', 'low', 'medium', 'high'] as const

/** Props of {@link ItemRow}. */
export interface ItemRowProps {
  shape: Shape<Item>
  rowKey: string
}

/** The row `rowKey` of `shape`, with its toggle and delete buttons. */
export const ItemRow = memo(function ItemRow({ shape, rowKey }: ItemRowProps) {
  const item = useShapeRow(shape, rowKey)
  const [failure, setFailure] = useState<string | undefined>(undefined)
  if (item === undefined) return null
  const id = String(item.id)
  const send = (write: ItemWrite): void => {
    setFailure(undefined)
    writeItem(write).catch((error: unknown) => setFailure(error instanceof Error ? error.message : String(error)))
  }
  return (
    <li className={item.done ? 'item done' : 'item'} data-item-id={id} data-done={String(item.done)}>
      <label>
        <input
          type="checkbox"
          checked={item.done}
          onChange={() => send({ kind: 'toggle', id })}
          aria-label={`toggle ${item.title}`}
        />
        <span className="title">{item.title}</span>
      </label>
      <span className={`priority p${item.priority}`}>{PRIORITY[item.priority] ?? item.priority}</span>
      <span className="tags">{(item.payload?.tags ?? []).map((tag) => `#${tag}`).join(' ')}</span>
      <button type="button" onClick={() => send({ kind: 'delete', id })} aria-label={`delete ${item.title}`}>
        ×
      </button>
      {failure !== undefined && <span className="error">{failure}</span>}
    </li>
  )
})
