/**
 * Source rows and transactions to the shape messages of protocol §3.2, serialised once.
 *
 * Invariants:
 * - Keys are `"schema"."table"/"v1"/"v2"…` over the primary key, `/` doubled inside values, NULL as `_`.
 * - Snapshot rows carry only `operation: insert` and `relation` (plus `snapshot_mark` in a subset); live changes carry
 *   `lsn` (decimal string), `op_position` (2 × the change's index in its whole transaction, +1 for the insert half of a
 *   key change), `txids` (numbers) and `last: true` on the shape's last change of the transaction only.
 * - `replica=default`: update value = key + changed selected columns, delete value = key; `replica=full`:
 *   update value = full row + `old_value` of the changed columns, delete value = full old row. Inserts are full.
 * - With `where`, an update is an update when the old and new rows match, a delete when only the old one does,
 *   an insert (full row) when only the new one does; rows that lack a column the clause reads count as matching,
 *   so a key-only delete is never lost.
 * - A key change is a delete (`key_change_to`) then an insert (`key_change_from`). An update that changes no
 *   selected column produces no message.
 */
import type { ChangeHeaders, ChangeMessage, WireRow } from '../core/protocol'
import { quoteIdentifier } from './identifiers'
import type { ShapeDefinition } from './shapeDefinition'
import type { Transaction, TransactionChange, TableDescription } from './sources/source'

/** One serialised message of a shape's log at `${lsn}_${op}`. */
export interface LogEntry {
  readonly lsn: bigint
  readonly op: number
  readonly json: string
}

/** The message key of a row. */
export function rowKey(table: TableDescription, row: WireRow): string {
  const prefix = `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`
  const parts = table.primaryKey.map((name) => {
    const value = row[name]
    return value === null || value === undefined ? '_' : `"${value.replace(/\//g, '//')}"`
  })
  return `${prefix}/${parts.join('/')}`
}

/** The serialised snapshot message of `row`; a subset snapshot's rows also carry its `snapshotMark`. */
export function snapshotMessage(definition: ShapeDefinition, row: WireRow, snapshotMark?: number): string {
  const headers: ChangeHeaders = { operation: 'insert', relation: relation(definition.table) }
  if (snapshotMark !== undefined) headers.snapshot_mark = snapshotMark
  const message: ChangeMessage<WireRow> = { key: rowKey(definition.table, row), value: project(row, definition.columns), headers }
  return JSON.stringify(message)
}

/** The log entries `transaction` produces for the shape, in order. */
export function transactionEntries(definition: ShapeDefinition, transaction: Transaction): LogEntry[] {
  const { table } = definition
  const pending: { op: number; message: ChangeMessage<WireRow> }[] = []
  transaction.changes.forEach((change, index) => {
    if (change.schema !== table.schema || change.table !== table.name) return
    for (const part of changeMessages(definition, change)) pending.push({ op: index * 2 + part.opOffset, message: part.message })
  })
  const lsn = String(transaction.lsn)
  const txids = [Number(transaction.xid)]
  return pending.map(({ op, message }, index) => {
    const headers: ChangeHeaders = { ...message.headers, lsn, op_position: op, txids }
    if (index === pending.length - 1) headers.last = true
    return { lsn: transaction.lsn, op, json: JSON.stringify({ ...message, headers }) }
  })
}

interface Part {
  opOffset: 0 | 1
  message: ChangeMessage<WireRow>
}

function changeMessages(definition: ShapeDefinition, change: TransactionChange): Part[] {
  const { table, columns, replica } = definition
  const full = replica === 'full'
  const rel = relation(table)
  const matches = (row: WireRow): boolean => {
    const where = definition.where
    if (!where) return true
    if (where.columns.some((name) => !(name in row))) return true
    return where.matches(row)
  }
  const insert = (row: WireRow, extra: Partial<ChangeHeaders> = {}, opOffset: 0 | 1 = 0): Part => ({
    opOffset,
    message: { key: rowKey(table, row), value: project(row, columns), headers: { operation: 'insert', relation: rel, ...extra } },
  })
  const remove = (row: WireRow, extra: Partial<ChangeHeaders> = {}): Part => ({
    opOffset: 0,
    message: {
      key: rowKey(table, row),
      value: project(row, full ? columns : table.primaryKey),
      headers: { operation: 'delete', relation: rel, ...extra },
    },
  })

  if (change.operation === 'insert') return matches(change.row) ? [insert(change.row)] : []
  if (change.operation === 'delete') return matches(change.row) ? [remove(change.row)] : []

  const next = change.row
  const old = change.oldRow
  const oldMatches = old ? matches(old) : matches(next)
  const newMatches = matches(next)
  if (!oldMatches && !newMatches) return []
  if (!oldMatches) return [insert(next)]
  if (!newMatches) return [remove(old ?? next)]

  const oldKey = old ? rowKey(table, old) : rowKey(table, next)
  const newKey = rowKey(table, next)
  if (old && oldKey !== newKey) {
    return [remove(old, { key_change_to: newKey }), insert(next, { key_change_from: oldKey }, 1)]
  }
  const changed = old ? columns.filter((name) => old[name] !== next[name]) : [...columns]
  if (changed.length === 0) return []
  const value = full ? project(next, columns) : project(next, unique([...table.primaryKey, ...changed], columns))
  const headers: ChangeHeaders = { operation: 'update', relation: rel }
  const message: ChangeMessage<WireRow> =
    full && old ? { key: newKey, value, old_value: project(old, changed), headers } : { key: newKey, value, headers }
  return [{ opOffset: 0, message }]
}

function relation(table: TableDescription): readonly [string, string] {
  return [table.schema, table.name]
}

/** `row` restricted to `names`, in the order of `names`; absent columns are left out. */
function project(row: WireRow, names: readonly string[]): WireRow {
  const value: WireRow = {}
  for (const name of names) if (name in row) value[name] = row[name] ?? null
  return value
}

/** `names` without duplicates, in the order of `order`. */
function unique(names: readonly string[], order: readonly string[]): string[] {
  const wanted = new Set(names)
  return order.filter((name) => wanted.has(name))
}
