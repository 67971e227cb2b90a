'use client'
/**
 * Adds an item. A plain HTML form that posts to `/api/items/form` (and is redirected back) when JavaScript has not
 * run; once it has, the submit is taken over: the row shows at once (optimistic, marked as saving) and stays when
 * the stream confirms the write's txid, or disappears again with the server's message when the write is refused.
 */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { useShapeMutation } from 'live-shapes'
import { itemsShape } from '../lib/items'
import type { Item } from '../lib/items'
import { newItemId, writeItem } from '../lib/writeItem'

interface NewItem {
  id: string
  title: string
  priority: number
}

/** Props of {@link AddItemForm}. */
export interface AddItemFormProps {
  shapeUrl: string
  /** The page the form route redirects back to without JavaScript. */
  returnTo: '/' | '/streaming'
}

/** A title field, a priority and an Add button. */
export function AddItemForm({ shapeUrl, returnTo }: AddItemFormProps) {
  const [title, setTitle] = useState('')
  const [priority, setPriority] = useState(2)
  const [failure, setFailure] = useState<string | undefined>(undefined)
  const add = useShapeMutation<Item, NewItem>(itemsShape(shapeUrl), {
    apply: (draft, item) =>
      draft.insert({ id: BigInt(item.id), title: item.title, priority: item.priority, done: false, payload: { tags: ['new'] } }),
    commit: (item) => writeItem({ kind: 'insert', ...item }),
    onError: (error, item) => setFailure(`“${item.title}” was not added: ${error instanceof Error ? error.message : String(error)}`),
  })
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    setFailure(undefined)
    add.mutate({ id: newItemId(), title: title.trim(), priority })
    setTitle('')
  }
  return (
    <form className="add" method="post" action="/api/items/form" onSubmit={submit}>
      <input type="hidden" name="intent" value="add" />
      <input type="hidden" name="returnTo" value={returnTo} />
      <input
        name="title"
        value={title}
        onChange={(event) => setTitle(event.target.value)}
        placeholder="What needs doing?"
        title="A title containing “forbidden” is refused by the database: the row shows, then rolls back"
        aria-label="title"
        maxLength={200}
        required
      />
      <select name="priority" value={priority} onChange={(event) => setPriority(Number(event.target.value))} aria-label="priority">
        <option value={1}>low</option>
        <option value={2}>medium</option>
        <option value={3}>high</option>
      </select>
      <button type="submit">Add</button>
      {failure !== undefined && (
        <span className="error" role="alert" data-testid="add-error">
          {failure}
        </span>
      )}
    </form>
  )
}
