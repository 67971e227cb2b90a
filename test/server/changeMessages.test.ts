import { describe, expect, it } from 'vitest'
import type { WireRow } from '../../src/core/protocol'
import { rowKey, transactionEntries } from '../../src/server/changeMessages'
import type { ShapeDefinition } from '../../src/server/shapeDefinition'
import type { TableDescription, TransactionChange } from '../../src/server/sources/source'
import type { ShapeFilter } from '../../src/server/whereFilter'

const column = (name: string, pkIndex?: number) => ({ name, type: 'text', dims: 0, notNull: false, pkIndex, typeMod: -1 })
const table: TableDescription = {
  schema: 'public',
  name: 'items',
  columns: [column('id', 0), column('status'), column('title')],
  primaryKey: ['id'],
}
/** `status = 'open'`, as the where compiler would evaluate it. */
const isOpen = (row: WireRow): boolean => row.status === 'open'
const openOnly: ShapeFilter = { sql: `"status" = $1`, params: ['open'], columns: ['status'], matches: isOpen, matchesOrThrow: isOpen }
const shape = (overrides: Partial<ShapeDefinition> = {}): ShapeDefinition => ({
  table, columns: ['id', 'status', 'title'], where: openOnly, replica: 'default', log: 'full', key: 'k', ...overrides,
})
const update = (oldRow: WireRow, row: WireRow): TransactionChange => ({ schema: 'public', table: 'items', operation: 'update', row, oldRow })
const messages = (definition: ShapeDefinition, changes: TransactionChange[]) =>
  transactionEntries(definition, { xid: '7', lsn: 100n, changes }).map((entry) => ({ op: entry.op, ...JSON.parse(entry.json) }))

describe('change messages', () => {
  it('keys double slashes, write NULL as _, and use every column without a primary key', () => {
    expect(rowKey(table, { id: 'a/b' })).toBe('"public"."items"/"a//b"')
    const noKey: TableDescription = { ...table, name: 'we"ird', primaryKey: ['status', 'title'] }
    expect(rowKey(noKey, { status: null, title: 'x' })).toBe('"public"."we""ird"/_/"x"')
  })

  it('where: matched→matched is an update, matched→unmatched a delete, unmatched→matched a full insert', () => {
    const base = { id: '1', status: 'open', title: 't' }
    const result = messages(shape(), [
      update(base, { ...base, title: 'u' }),
      update(base, { ...base, status: 'closed' }),
      update({ ...base, id: '2', status: 'closed' }, { ...base, id: '2' }),
      update({ ...base, id: '3', status: 'closed' }, { ...base, id: '3', status: 'closed', title: 'z' }),
    ])
    expect(result.map((m) => [m.headers.operation, m.value, m.headers.op_position])).toEqual([
      ['update', { id: '1', title: 'u' }, 0],
      ['delete', { id: '1' }, 2],
      ['insert', { id: '2', status: 'open', title: 't' }, 4],
    ])
    expect(result.map((m) => m.headers.last)).toEqual([undefined, undefined, true])
  })

  it('a key-only delete is never filtered out by where, and unchanged selected columns give no update', () => {
    const result = messages(shape({ columns: ['id', 'title'] }), [
      { schema: 'public', table: 'items', operation: 'delete', row: { id: '9' }, oldRow: undefined },
      update({ id: '1', status: 'open', title: 't' }, { id: '1', status: 'open', title: 't' }),
    ])
    expect(result).toHaveLength(1)
    expect(result[0]).toMatchObject({ key: '"public"."items"/"9"', value: { id: '9' }, headers: { operation: 'delete', txids: [7], lsn: '100' } })
  })
})
