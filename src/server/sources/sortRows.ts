/**
 * `ORDER BY` in memory, as PostgreSQL orders the column types the where evaluator implements: the memory source's
 * subset snapshots sort with it.
 *
 * Invariants:
 * - Values compare as their SQL type (`where/sqlValue.ts`): integers, `numeric` and floats numerically
 *   (NaN above every number, as PostgreSQL sorts it), `bool` false before true, dates and timestamps in time order,
 *   `bpchar` without its trailing spaces, and `text`, `varchar` and `uuid` by code point, which is UTF-8 byte order:
 *   PostgreSQL's `C` collation. (The SQL sources use the column's own collation, as Electric does.)
 * - NULL placement is explicit per term (`nulls`); the request compiler defaults it as PostgreSQL does: NULLS
 *   LAST for ASC, NULLS FIRST for DESC.
 * - The sort is stable: rows equal on every term keep the source's order.
 * - A column whose type is not one of those (arrays, json, …) or a value its type cannot parse raises: the
 *   request compiler refuses such order_by columns before a source sees them.
 */
import type { WireRow } from '../../core/protocol'
import { sqlTypeNamed, type SqlType } from '../where/sqlType'
import { compareSqlValues, parseSqlValue, type SqlValue } from '../where/sqlValue'
import type { SnapshotOrder, TableDescription } from './source'

/** The type a column sorts as in memory, or undefined when it cannot be sorted here. */
export function sortableType(table: TableDescription, column: string): SqlType | undefined {
  const description = table.columns.find((candidate) => candidate.name === column)
  if (description === undefined || description.dims > 0) return undefined
  return sqlTypeNamed(description.type)
}

/**
 * `rows` in `orderBy` order; a new array, the rows themselves untouched.
 * @example
 * const page = sortRows(table, rows, [{ column: 'title', direction: 'asc', nulls: 'last' }]).slice(offset, offset + limit)
 */
export function sortRows(table: TableDescription, rows: readonly WireRow[], orderBy: readonly SnapshotOrder[]): WireRow[] {
  const terms = orderBy.map((term) => {
    const type = sortableType(table, term.column)
    if (type === undefined) throw new Error(`cannot order by column "${term.column}" in memory`)
    return { ...term, type }
  })
  const keyed = rows.map((row, index) => ({
    row,
    index,
    values: terms.map((term): SqlValue | null => {
      const text = row[term.column]
      return text === null || text === undefined ? null : parseSqlValue(term.type, text)
    }),
  }))
  keyed.sort((a, b) => {
    for (let position = 0; position < terms.length; position++) {
      const term = terms[position] as (typeof terms)[number]
      const x = a.values[position] ?? null
      const y = b.values[position] ?? null
      if (x === null || y === null) {
        if (x === y) continue
        return (x === null) === (term.nulls === 'first') ? -1 : 1
      }
      const order = compareSqlValues(term.type, x, y)
      if (order !== 0) return term.direction === 'asc' ? order : -order
    }
    return a.index - b.index
  })
  return keyed.map((entry) => entry.row)
}
