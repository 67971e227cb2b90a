/**
 * Driving the official `@electric-sql/client` against our server in tests: wait for a `Shape` to hold given rows,
 * and compare it with what the memory source holds.
 */
import type { Row, Shape } from '@electric-sql/client'
import type { WireRow } from '../../../src/core/protocol'
import type { MemoryRow, MemoryTableInit } from '../../../src/testing'

/** Resolves when `predicate(rows)` holds for the shape's published rows (checked now and at every notification). */
export function shapeRowsSatisfy<T extends Row<unknown>>(shape: Shape<T>, predicate: (rows: T[]) => boolean): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const check = (rows: T[]): boolean => {
      if (!predicate(rows)) return false
      resolve(rows)
      return true
    }
    if (shape.isUpToDate && check(shape.currentRows)) return
    const unsubscribe = shape.subscribe(({ rows }) => {
      if (check(rows)) unsubscribe()
    })
    shape.stream.subscribe(
      () => {},
      (error) => reject(error),
    )
  })
}

/** Rows as the client parses an `items (id int4, title text, n int4)` table, sorted by id. */
export function parsedItems(rows: readonly WireRow[]): Record<string, unknown>[] {
  return rows
    .map((row) => ({ id: Number(row.id), title: row.title, n: row.n === null || row.n === undefined ? null : Number(row.n) }))
    .sort((a, b) => a.id - b.id)
}

export function sortById<T extends Row<unknown>>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => Number(a.id) - Number(b.id))
}

/** The `items (id int4 primary key, title text, n int4)` table the interop tests sync, holding `rows`. */
export function itemsTable(rows: readonly MemoryRow[]): MemoryTableInit {
  return {
    name: 'items',
    columns: [
      { name: 'id', type: 'int4', primaryKey: true },
      { name: 'title', type: 'text' },
      { name: 'n', type: 'int4' },
    ],
    rows,
  }
}
