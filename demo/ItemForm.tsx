/**
 * Adds a row, or edits the one picked in the table, optimistically with `useShapeMutation`: the row shows at once
 * (marked "saving…") and is confirmed when the stream brings back the txid the demo server answered; a write the
 * server or the database refuses rolls back, and the message shows under the form.
 *
 * Invariant: the page chooses a new row's id (one above the highest the shape shows, optimistic rows included), so
 * the optimistic row and the confirmed row share a key.
 */
import { useEffect, useState, useSyncExternalStore } from 'react'
import type { FormEvent, ReactNode } from 'react'
import { useShapeMutation } from '../src/index'
import type { Shape } from '../src/index'
import { demoApi } from './api'
import type { Item } from './api'
import type { WriteNotices } from './writeNotices'

const EMPTY = { title: '', priority: 0, done: false }

/** The id for a new row: one above every id the shape shows, including pending rows. */
function nextId(shape: Shape<Item> | undefined): number {
  const ids = shape === undefined ? [] : shape.getSnapshot().data.map((item) => Number(item.id))
  return Math.max(0, ...ids) + 1
}

/** Props of `ItemForm`. */
export interface ItemFormProps {
  shape: Shape<Item> | undefined
  editing: Item | undefined
  onDone: () => void
  notices: WriteNotices
}

/**
 * The add/edit form; `editing` switches it to editing that row.
 * @example
 * <ItemForm shape={shape} editing={editing} onDone={() => setEditing(undefined)} notices={notices} />
 */
export function ItemForm({ shape, editing, onDone, notices }: ItemFormProps): ReactNode {
  const [draft, setDraft] = useState(EMPTY)
  const notice = useSyncExternalStore(notices.subscribe, notices.getSnapshot, notices.getSnapshot)
  useEffect(() => {
    setDraft(editing ? { title: editing.title, priority: editing.priority, done: editing.done } : EMPTY)
  }, [editing])

  const add = useShapeMutation<Item, Item>(shape, {
    apply: (rows, item) => rows.insert(item),
    commit: (item) => demoApi.addItem(item),
    onError: (error, item) => notices.rolledBack(`Adding "${item.title}"`, error),
  })
  const edit = useShapeMutation<Item, Item>(shape, {
    apply: (rows, item) => rows.update(item),
    commit: ({ id, ...changes }) => demoApi.editItem(id, changes),
    onError: (error, item) => notices.rolledBack(`Editing item ${item.id}`, error),
  })

  function submit(event: FormEvent): void {
    event.preventDefault()
    notices.clear()
    // Shown at once; the form is free again before the server answers.
    if (editing) edit.mutate({ id: editing.id, ...draft })
    else add.mutate({ id: nextId(shape), ...draft })
    setDraft(EMPTY)
    onDone()
  }

  return (
    <form className="panel" onSubmit={submit} aria-label={editing ? `Edit item ${editing.id}` : 'Add an item'}>
      <h2>{editing ? `Edit item ${editing.id}` : 'Add an item'}</h2>
      <label>
        Title
        <input value={draft.title} required maxLength={200} onChange={(event) => setDraft({ ...draft, title: event.target.value })} />
      </label>
      <label>
        Priority
        <input
          type="number"
          min={0}
          max={9}
          value={draft.priority}
          onChange={(event) => setDraft({ ...draft, priority: Number(event.target.value) })}
        />
      </label>
      <label className="inline">
        <input type="checkbox" checked={draft.done} onChange={(event) => setDraft({ ...draft, done: event.target.checked })} />
        Done
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={shape === undefined}>
          {editing ? 'Save' : 'Add'}
        </button>
        {editing && (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      <p className="muted">A title containing “forbidden” is refused by a CHECK constraint: watch the row roll back.</p>
      {notice !== undefined && (
        <p className="error" role="alert" data-testid="write-error" key={notice.id}>
          {notice.message}{' '}
          <button type="button" className="small" onClick={notices.clear}>
            Dismiss
          </button>
        </p>
      )}
    </form>
  )
}
