'use client'
/**
 * Adds an item. The form does not add it to the list itself: the insert comes back through the shape.
 */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { writeItem } from '../lib/writeItem'

/** A title field, a priority and an Add button. */
export function AddItemForm() {
  const [title, setTitle] = useState('')
  const [priority, setPriority] = useState(2)
  const [failure, setFailure] = useState<string | undefined>(undefined)
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    setFailure(undefined)
    writeItem({ kind: 'insert', title, priority }).then(
      () => setTitle(''),
      (error: unknown) => setFailure(error instanceof Error ? error.message : String(error)),
    )
  }
  return (
    <form className="add" onSubmit={submit}>
      <input
        name="title"
        value={title}
        onChange={(event) => setTitle(event.target.value)}
        placeholder="What needs doing?"
        aria-label="title"
        required
      />
      <select name="priority" value={priority} onChange={(event) => setPriority(Number(event.target.value))} aria-label="priority">
        <option value={1}>low</option>
        <option value={2}>medium</option>
        <option value={3}>high</option>
      </select>
      <button type="submit">Add</button>
      {failure !== undefined && <span className="error">{failure}</span>}
    </form>
  )
}
