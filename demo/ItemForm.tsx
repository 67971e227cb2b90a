/**
 * Adds a row, or edits the one picked in the table, through the demo server's API. The table shows the result when
 * it comes back through the shape stream, not from local state.
 */
import { useEffect, useState } from 'react'
import type { FormEvent, ReactNode } from 'react'
import { demoApi } from './api'
import type { Item } from './api'

const EMPTY = { title: '', priority: 0, done: false }

/**
 * The add/edit form; `editing` switches it to editing that row.
 * @example
 * <ItemForm editing={editing} onDone={() => setEditing(undefined)} />
 */
export function ItemForm({ editing, onDone }: { editing: Item | undefined; onDone: () => void }): ReactNode {
  const [draft, setDraft] = useState(EMPTY)
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    setDraft(editing ? { title: editing.title, priority: editing.priority, done: editing.done } : EMPTY)
    setError(undefined)
  }, [editing])

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      if (editing) await demoApi.editItem(editing.id, draft)
      else await demoApi.addItem(draft)
      setDraft(EMPTY)
      onDone()
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="panel" onSubmit={(event) => void submit(event)} aria-label={editing ? `Edit item ${editing.id}` : 'Add an item'}>
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
        <button type="submit" className="primary" disabled={busy}>
          {editing ? 'Save' : 'Add'}
        </button>
        {editing && (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      {error !== undefined && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
