/**
 * The live table: the list subscribes to the shape's keys only, each memoized row to its own row, and every row
 * shows how many times it rendered, so one changed row visibly re-renders one row. Toggling done and deleting are
 * optimistic (`useShapeMutation` in the row, so only that row re-renders); a row whose write is not confirmed yet says
 * "saving…" (`useShapeRowPending`), and a refused write rolls back with its message in the notices.
 */
import { memo, useMemo, useRef } from 'react'
import type { ReactNode } from 'react'
import { useShapeKeys, useShapeMutation, useShapeRow, useShapeRowPending } from '../src/index'
import type { Shape } from '../src/index'
import { demoApi } from './api'
import type { Item } from './api'
import type { WriteNotices } from './writeNotices'

function useRenderCount(): number {
  const count = useRef(0)
  count.current += 1
  return count.current
}

interface RowProps {
  shape: Shape<Item>
  rowKey: string
  onEdit: (item: Item) => void
  notices: WriteNotices
}

const ItemRow = memo(function ItemRow({ shape, rowKey, onEdit, notices }: RowProps): ReactNode {
  const item = useShapeRow(shape, rowKey)
  const saving = useShapeRowPending(shape, rowKey)
  const renders = useRenderCount()
  const toggle = useShapeMutation<Item, Pick<Item, 'id' | 'done'>>(shape, {
    apply: (rows, change) => rows.update(change),
    commit: ({ id, done }) => demoApi.editItem(id, { done }),
    onError: (error, { id }) => notices.rolledBack(`Marking item ${id}`, error),
  })
  const remove = useShapeMutation<Item, number>(shape, {
    apply: (rows, id) => rows.delete({ id }),
    commit: (id) => demoApi.deleteItem(id),
    onError: (error, id) => notices.rolledBack(`Deleting item ${id}`, error),
  })
  if (item === undefined) return null
  const classes = [item.done ? 'done' : '', saving ? 'pending' : ''].filter(Boolean).join(' ')
  return (
    <tr data-testid={`row-${item.id}`} data-pending={saving ? 'true' : 'false'} className={classes || undefined}>
      <td className="num">{item.id}</td>
      <td>
        {item.title}
        {saving && (
          <em className="saving" data-testid={`saving-${item.id}`}>
            {' '}
            saving…
          </em>
        )}
      </td>
      <td className="num">{item.priority}</td>
      <td>
        <input
          type="checkbox"
          checked={item.done}
          onChange={() => toggle.mutate({ id: item.id, done: !item.done })}
          aria-label={`Item ${item.id} done`}
        />
      </td>
      <td className="num renders" data-testid={`renders-${item.id}`}>
        {renders}
      </td>
      <td>
        <button type="button" className="small" onClick={() => onEdit(item)} aria-label={`Edit item ${item.id}`}>
          Edit
        </button>{' '}
        <button type="button" className="small" onClick={() => remove.mutate(item.id)} aria-label={`Delete item ${item.id}`}>
          Delete
        </button>
      </td>
    </tr>
  )
})

/**
 * The table of `shape`'s rows.
 * @example
 * <ItemsTable shape={shape} onEdit={setEditing} notices={notices} />
 */
// Memoized: opening the form to edit a row re-renders the page's state, never the table.
export const ItemsTable = memo(function ItemsTable({
  shape,
  onEdit,
  notices,
}: {
  shape: Shape<Item> | undefined
  onEdit: (item: Item) => void
  notices: WriteNotices
}): ReactNode {
  const keys = useShapeKeys(shape)
  // By id: a snapshot comes in the table's physical order, where PostgreSQL moves updated rows to the end. Ids never
  // change, so the order only needs computing when rows come or go (when `keys` changes).
  const sorted = useMemo(
    () => (shape === undefined ? keys : [...keys].sort((a, b) => (shape.getRow(a)?.id ?? 0) - (shape.getRow(b)?.id ?? 0))),
    [shape, keys],
  )
  const renders = useRenderCount()
  return (
    <section aria-label="Items">
      <p className="muted">
        <span data-testid="row-count">{keys.length}</span> rows · table renders: <span data-testid="table-renders">{renders}</span>
      </p>
      <table className="items">
        <thead>
          <tr>
            <th className="num">id</th>
            <th>title</th>
            <th className="num">priority</th>
            <th>done</th>
            <th className="num" title="How many times this row's component rendered">renders</th>
            <th />
          </tr>
        </thead>
        <tbody>{shape !== undefined && sorted.map((key) => <ItemRow key={key} shape={shape} rowKey={key} onEdit={onEdit} notices={notices} />)}</tbody>
      </table>
    </section>
  )
})
