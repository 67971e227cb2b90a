/**
 * The live table: the list subscribes to the shape's keys only, each memoized row to its own row, and every row
 * shows how many times it rendered, so one changed row visibly re-renders one row.
 */
import { memo, useMemo, useRef } from 'react'
import type { ReactNode } from 'react'
import { useShapeKeys, useShapeRow } from '../src/index'
import type { Shape } from '../src/index'
import type { Item } from './api'

function useRenderCount(): number {
  const count = useRef(0)
  count.current += 1
  return count.current
}

interface RowProps {
  shape: Shape<Item>
  rowKey: string
  onEdit: (item: Item) => void
}

const ItemRow = memo(function ItemRow({ shape, rowKey, onEdit }: RowProps): ReactNode {
  const item = useShapeRow(shape, rowKey)
  const renders = useRenderCount()
  if (item === undefined) return null
  return (
    <tr data-testid={`row-${item.id}`} className={item.done ? 'done' : undefined}>
      <td className="num">{item.id}</td>
      <td>{item.title}</td>
      <td className="num">{item.priority}</td>
      <td>{item.done ? 'yes' : 'no'}</td>
      <td className="num renders" data-testid={`renders-${item.id}`}>
        {renders}
      </td>
      <td>
        <button type="button" className="small" onClick={() => onEdit(item)} aria-label={`Edit item ${item.id}`}>
          Edit
        </button>
      </td>
    </tr>
  )
})

/**
 * The table of `shape`'s rows.
 * @example
 * <ItemsTable shape={shape} onEdit={setEditing} />
 */
export function ItemsTable({ shape, onEdit }: { shape: Shape<Item> | undefined; onEdit: (item: Item) => void }): ReactNode {
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
      <table>
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
        <tbody>{shape !== undefined && sorted.map((key) => <ItemRow key={key} shape={shape} rowKey={key} onEdit={onEdit} />)}</tbody>
      </table>
    </section>
  )
}
