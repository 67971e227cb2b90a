import { describe, expect, it } from 'vitest'
import { sortableType, sortRows } from '../../../src/server/sources/sortRows'
import type { SnapshotOrder, TableDescription } from '../../../src/server/sources/source'
import type { WireRow } from '../../../src/core/protocol'

const column = (name: string, type: string, dims = 0) => ({ name, type, dims, notNull: false, pkIndex: undefined, typeMod: -1 })
const table: TableDescription = {
  schema: 'public',
  name: 't',
  columns: [column('id', 'int4'), column('v', 'text')],
  primaryKey: ['id'],
}

/** Sorts single-column rows of `type` and returns the values in order. */
function sortValues(type: string, values: readonly (string | null)[], term: Omit<SnapshotOrder, 'column'>): (string | null)[] {
  const typed: TableDescription = { ...table, columns: [column('id', 'int4'), column('v', type)] }
  const rows: WireRow[] = values.map((v, index) => ({ id: String(index), v }))
  return sortRows(typed, rows, [{ column: 'v', ...term }]).map((row) => row.v ?? null)
}

describe('sortRows', () => {
  const asc = { direction: 'asc', nulls: 'last' } as const
  it('orders numbers numerically, not as text, with NaN above every float', () => {
    expect(sortValues('int8', ['10', '9', '-3', '9007199254740993', '9007199254740992'], asc)).toEqual([
      '-3', '9', '10', '9007199254740992', '9007199254740993',
    ])
    expect(sortValues('numeric', ['10.50', '2', '-0.001', '10.5000001'], asc)).toEqual(['-0.001', '2', '10.50', '10.5000001'])
    expect(sortValues('float8', ['NaN', 'Infinity', '-Infinity', '1e3', '2'], asc)).toEqual(['-Infinity', '2', '1e3', 'Infinity', 'NaN'])
  })

  it('orders text by code point (C collation), bpchar without trailing spaces, bool false first, timestamps in time', () => {
    expect(sortValues('text', ['b', 'B', 'a', 'é', '\u{1F600}', '\uFFFD', 'ab'], asc)).toEqual(['B', 'a', 'ab', 'b', 'é', '\uFFFD', '\u{1F600}'])
    expect(sortValues('bpchar', ['a  ', 'a', 'a b'], asc)).toEqual(['a  ', 'a', 'a b'])
    expect(sortValues('bool', ['true', 'false', 'true'], asc)).toEqual(['false', 'true', 'true'])
    // 09:00, 08:00 and 04:00 UTC: time order, which is not text order.
    expect(sortValues('timestamptz', ['2024-01-01 09:00:00+00', '2024-01-01 10:00:00+02', '2023-12-31 23:00:00-05'], asc)).toEqual([
      '2023-12-31 23:00:00-05',
      '2024-01-01 10:00:00+02',
      '2024-01-01 09:00:00+00',
    ])
  })

  it('places NULLs as the term says and keeps ties in source order', () => {
    expect(sortValues('int4', ['2', null, '1', null], { direction: 'asc', nulls: 'last' })).toEqual(['1', '2', null, null])
    expect(sortValues('int4', ['2', null, '1'], { direction: 'desc', nulls: 'first' })).toEqual([null, '2', '1'])
    expect(sortValues('int4', ['2', null, '1'], { direction: 'desc', nulls: 'last' })).toEqual(['2', '1', null])
    const rows: WireRow[] = [{ id: '1', v: 'x' }, { id: '2', v: 'a' }, { id: '3', v: 'x' }, { id: '4', v: 'a' }]
    expect(sortRows(table, rows, [{ column: 'v', direction: 'desc', nulls: 'first' }]).map((row) => row.id)).toEqual(['1', '3', '2', '4'])
  })

  it('sorts by several terms and leaves its input untouched', () => {
    const rows: WireRow[] = [{ id: '1', v: 'b' }, { id: '2', v: 'a' }, { id: '3', v: 'b' }]
    const sorted = sortRows(table, rows, [
      { column: 'v', direction: 'asc', nulls: 'last' },
      { column: 'id', direction: 'desc', nulls: 'first' },
    ])
    expect(sorted.map((row) => row.id)).toEqual(['2', '3', '1'])
    expect(rows.map((row) => row.id)).toEqual(['1', '2', '3'])
  })

  it('knows which columns it cannot sort, and refuses them', () => {
    const odd: TableDescription = { ...table, columns: [column('id', 'int4'), column('j', 'jsonb'), column('a', 'int4', 1)] }
    expect(sortableType(odd, 'id')).toBe('int4')
    expect(sortableType(odd, 'j')).toBeUndefined()
    expect(sortableType(odd, 'a')).toBeUndefined()
    expect(sortableType(odd, 'missing')).toBeUndefined()
    expect(() => sortRows(odd, [], [{ column: 'j', direction: 'asc', nulls: 'last' }])).toThrow(/cannot order by column "j"/)
  })
})
