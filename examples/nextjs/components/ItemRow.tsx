'use client'
/**
 * One row, subscribed to its own key: a change to another row does not re-render it. Its toggle and delete buttons
 * are plain HTML forms posting to `/api/items/form` without JavaScript; with it they are optimistic writes (the row
 * changes at once, is marked as saving until the stream confirms the txid, and rolls back with a message if refused).
 */
import { memo, useState } from 'react'
import type { FormEvent } from 'react'
import { useShapeMutation, useShapeRow, useShapeRowPending } from 'live-shapes'
import type { Shape } from 'live-shapes'
import type { Item } from '../lib/items'
import { writeItem } from '../lib/writeItem'

const PRIORITY = ['', 'low', 'medium', 'high'] as const

/** Props of {@link ItemRow}. */
export interface ItemRowProps {
  shape: Shape<Item>
  rowKey: string
  returnTo: '/' | '/streaming'
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The row `rowKey` of `shape`, with its toggle and delete buttons. */
export const ItemRow = memo(function ItemRow({ shape, rowKey, returnTo }: ItemRowProps) {
  const item = useShapeRow(shape, rowKey)
  const saving = useShapeRowPending(shape, rowKey)
  const [failure, setFailure] = useState<string | undefined>(undefined)
  const onError = (error: unknown): void => setFailure(message(error))
  const toggle = useShapeMutation<Item, { id: bigint; done: boolean }>(shape, {
    apply: (draft, { id, done }) => draft.update({ id, done }),
    commit: ({ id }) => writeItem({ kind: 'toggle', id: String(id) }),
    onError,
  })
  const remove = useShapeMutation<Item, { id: bigint }>(shape, {
    apply: (draft, { id }) => draft.delete({ id }),
    commit: ({ id }) => writeItem({ kind: 'delete', id: String(id) }),
    onError,
  })
  if (item === undefined) return null
  const id = String(item.id)
  const enhance = (write: () => void) => (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setFailure(undefined)
    write()
  }
  return (
    <li
      className={`item${item.done ? ' done' : ''}${saving ? ' saving' : ''}`}
      data-item-id={id}
      data-done={String(item.done)}
      data-pending={String(saving)}
    >
      <form method="post" action="/api/items/form" onSubmit={enhance(() => toggle.mutate({ id: item.id, done: !item.done }))}>
        <input type="hidden" name="intent" value="toggle" />
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="returnTo" value={returnTo} />
        <button type="submit" className="check" role="checkbox" aria-checked={item.done} aria-label={`toggle ${item.title}`}>
          {item.done ? '✓' : ''}
        </button>
      </form>
      <span className="title">{item.title}</span>
      <span className={`priority p${item.priority}`}>{PRIORITY[item.priority] ?? item.priority}</span>
      <span className="tags">{(item.payload?.tags ?? []).map((tag) => `#${tag}`).join(' ')}</span>
      <form method="post" action="/api/items/form" onSubmit={enhance(() => remove.mutate({ id: item.id }))}>
        <input type="hidden" name="intent" value="delete" />
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="returnTo" value={returnTo} />
        <button type="submit" className="delete" aria-label={`delete ${item.title}`}>
          ×
        </button>
      </form>
      {failure !== undefined && (
        <span className="error" role="alert">
          {failure}
        </span>
      )}
    </li>
  )
})
