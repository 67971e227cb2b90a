/**
 * An in-memory `ChangeSource`: tables in a Map, transactions applied synchronously, for tests, stories and demos.
 *
 * Invariants (on top of the `ChangeSource` invariants in source.ts):
 * - A transaction is atomic: every change is checked against a working copy first, so a failing statement
 *   (duplicate key, unknown row) throws and leaves the tables and the subscribers untouched.
 * - xids and LSNs are counters: each committed transaction takes the next xid and the next LSN (both > 0),
 *   so runs are deterministic and every real LSN sorts after the snapshot's virtual offsets `0_n`.
 * - A snapshot is taken synchronously when `snapshot()` is called, with `xmin = xmax = next xid` and an empty
 *   `xipList`: every committed transaction is visible in it, none delivered later is.
 * - Table definitions are checked before anything is created: options, `tables`, a table, a column or `rows` of
 *   the wrong shape is an `InvalidOptionsError` saying which, never a TypeError from reading it.
 * - Values are stored as wire text: numbers and bigints in decimal, booleans as `true`/`false`.
 * - A snapshot's `databaseLsn` is the next LSN: every visible transaction has a smaller one, the next
 *   commit takes it. `orderBy` sorts in memory as PostgreSQL would with the `C` collation (`sortRows.ts`).
 * - A `where` that raises on some row (division by zero, overflow, a bad cast) fails the snapshot with a
 *   `DataException`, as PostgreSQL fails the query (dataException.ts); live changes on such a row match nothing
 *   (whereClause.ts: `matches`), as on every source.
 */
import type { WireRow, WireValue } from '../../core/protocol'
import type {
  ChangeSource,
  ColumnDescription,
  SnapshotRequest,
  SnapshotResult,
  TableDescription,
  TableName,
  Transaction,
  TransactionChange,
} from './source'
import { InvalidOptionsError } from '../../core/errors'
import { float8Text } from '../../core/float8Text'
import { invalidOption } from '../../core/internal'
import { loadWhereFilter } from '../whereFilter'

/** A value a memory table accepts; stored as its wire text. */
export type MemoryValue = string | number | bigint | boolean | null
/**
 * A row of a memory table by column name.
 * @example
 * const row: MemoryRow = { id: 1, title: 'Write a test', done: false }
 */
export type MemoryRow = Record<string, MemoryValue>

/**
 * A column of a memory table.
 * @example
 * const column: MemoryColumnInit = { name: 'id', type: 'int4', primaryKey: true }
 */
export interface MemoryColumnInit {
  name: string
  /** Postgres type name, e.g. `int4`, `text`, `bool`; for arrays the element type with `dims >= 1`. */
  type: string
  primaryKey?: boolean
  notNull?: boolean
  dims?: number
  typeMod?: number
}

/**
 * A memory table to create: its columns and first rows.
 * @example
 * const table: MemoryTableInit = { name: 'todos', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }], rows: [{ id: 1, title: 'a' }] }
 */
export interface MemoryTableInit {
  /** Defaults to `public`. */
  schema?: string
  name: string
  columns: readonly MemoryColumnInit[]
  rows?: readonly MemoryRow[]
}

/** A table reference: `name` (schema `public`), `schema.name`, or an explicit pair. */
export type MemoryTableRef = string | { schema: string; name: string }

/**
 * The writes of one memory transaction (`source.transaction(fn)`), delivered together when `fn` returns.
 * @example
 * source.transaction((tx) => { tx.insert('todos', { id: 2, title: 'b' }); tx.delete('todos', { id: 1 }) })
 */
export interface MemoryTransaction {
  insert(table: MemoryTableRef, row: MemoryRow): void
  /** Updates the row identified by `key` (default: the primary-key columns of `changes`) with `changes`. */
  update(table: MemoryTableRef, changes: MemoryRow, key?: MemoryRow): void
  delete(table: MemoryTableRef, key: MemoryRow): void
  /** Empties the table, as `TRUNCATE` does (delivered as a truncation, not as row deletes). */
  truncate(table: MemoryTableRef): void
}

/**
 * A `ChangeSource` over tables held in memory, written by calls instead of SQL (`createMemorySource`).
 * @example
 * const source = createMemorySource({ tables: [{ name: 'todos', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] })
 * const xid = source.insert('todos', { id: 1 })
 */
export interface MemorySource extends ChangeSource {
  readonly kind: 'memory'
  createTable(init: MemoryTableInit): TableDescription
  /** Runs `fn` as one transaction and delivers it to subscribers; returns its xid and LSN. */
  transaction(fn: (tx: MemoryTransaction) => void): { xid: string; lsn: bigint } | undefined
  /** Inserts one row in its own transaction; returns that transaction's xid (the txid clients see). */
  insert(table: MemoryTableRef, row: MemoryRow): number
  /** Updates one row in its own transaction; returns its xid. */
  update(table: MemoryTableRef, changes: MemoryRow, key?: MemoryRow): number
  /** Deletes one row in its own transaction; returns its xid. */
  delete(table: MemoryTableRef, key: MemoryRow): number
  /** Empties a table in its own transaction; returns its xid. */
  truncate(table: MemoryTableRef): number
  /** Current rows of a table, as wire rows. */
  rows(table: MemoryTableRef): WireRow[]
}

interface MemoryTable {
  description: TableDescription
  rows: Map<string, WireRow>
}

/**
 * Creates an in-memory source.
 * @example
 * const source = createMemorySource({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] })
 * source.insert('items', { id: 1 })
 */
export function createMemorySource(options: { tables?: readonly MemoryTableInit[] } = {}): MemorySource {
  checkSourceOptions(options)
  const tables = new Map<string, MemoryTable>()
  const listeners = new Set<(transaction: Transaction) => void>()
  let nextXid = 1n
  let lsn = 0n
  let closed = false

  const resolve = (ref: MemoryTableRef): MemoryTable => {
    const { schema, name } = splitRef(ref)
    const table = tables.get(tableId(schema, name))
    if (!table) throw new Error(`Memory source: table "${schema}"."${name}" does not exist`)
    return table
  }

  const createTable = (init: MemoryTableInit): TableDescription => {
    checkTableInit(init, tables.size)
    const schema = init.schema ?? 'public'
    const id = tableId(schema, init.name)
    if (tables.has(id)) throw new Error(`Memory source: table "${schema}"."${init.name}" already exists`)
    const description = describe(schema, init)
    const table: MemoryTable = { description, rows: new Map() }
    for (const row of init.rows ?? []) {
      const wire = toWireRow(description, row, undefined)
      const key = rowKey(description, wire)
      if (table.rows.has(key)) throw new Error(`Memory source: duplicate key ${key} in initial rows`)
      table.rows.set(key, wire)
    }
    tables.set(id, table)
    return description
  }

  const transaction = (fn: (tx: MemoryTransaction) => void): { xid: string; lsn: bigint } | undefined => {
    if (closed) throw new Error('Memory source is closed')
    const working = new Map<MemoryTable, Map<string, WireRow>>()
    const rowsOf = (table: MemoryTable): Map<string, WireRow> => {
      let rows = working.get(table)
      if (!rows) {
        rows = new Map(table.rows)
        working.set(table, rows)
      }
      return rows
    }
    const changes: TransactionChange[] = []
    const truncated: TableName[] = []
    const base = (table: MemoryTable) => ({ schema: table.description.schema, table: table.description.name })
    fn({
      insert(ref, row) {
        const table = resolve(ref)
        const rows = rowsOf(table)
        const wire = toWireRow(table.description, row, undefined)
        const key = rowKey(table.description, wire)
        if (rows.has(key)) throw new Error(`Memory source: duplicate key ${key}`)
        rows.set(key, wire)
        changes.push({ ...base(table), operation: 'insert', row: { ...wire }, oldRow: undefined })
      },
      update(ref, changed, key) {
        const table = resolve(ref)
        const rows = rowsOf(table)
        const oldKey = rowKey(table.description, toPartialWire(key ?? changed))
        const old = rows.get(oldKey)
        if (!old) throw new Error(`Memory source: no row with key ${oldKey}`)
        const next = toWireRow(table.description, { ...old, ...changed }, old)
        const newKey = rowKey(table.description, next)
        if (newKey !== oldKey) {
          if (rows.has(newKey)) throw new Error(`Memory source: duplicate key ${newKey}`)
          rows.delete(oldKey)
        }
        rows.set(newKey, next)
        changes.push({ ...base(table), operation: 'update', row: { ...next }, oldRow: { ...old } })
      },
      delete(ref, key) {
        const table = resolve(ref)
        const rows = rowsOf(table)
        const id = rowKey(table.description, toPartialWire(key))
        const old = rows.get(id)
        if (!old) throw new Error(`Memory source: no row with key ${id}`)
        rows.delete(id)
        changes.push({ ...base(table), operation: 'delete', row: { ...old }, oldRow: undefined })
      },
      truncate(ref) {
        const table = resolve(ref)
        rowsOf(table).clear()
        truncated.push(base(table))
      },
    })
    if (changes.length === 0 && truncated.length === 0) return undefined
    for (const [table, rows] of working) table.rows = rows
    const committed: Transaction = { xid: String(nextXid), lsn: lsn + 1n, changes, truncated }
    nextXid += 1n
    lsn += 1n
    for (const listener of [...listeners]) listener(committed)
    return { xid: committed.xid, lsn: committed.lsn }
  }

  const snapshot = async (request: SnapshotRequest): Promise<SnapshotResult> => {
    request.signal?.throwIfAborted()
    const table = resolve({ schema: request.table.schema, name: request.table.name })
    // The snapshot is taken synchronously; what follows works on this copy, whatever commits meanwhile.
    let rows = [...table.rows.values()].map((row) => ({ ...row }))
    const result = { xmin: String(nextXid), xmax: String(nextXid), xipList: [], lsn, databaseLsn: lsn + 1n }
    if (request.where !== undefined) {
      const compiled = await loadWhereFilter({
        where: request.where,
        params: request.params.map((param) => param ?? ''),
        table: table.description,
        // Rendered by the server from a clause already held to the handler's limits.
        limits: 'none',
      })
      if (!compiled.ok) throw new Error(`Memory source: invalid where: ${compiled.refusal.messages.join('; ')}`)
      rows = rows.filter((row) => compiled.filter.matchesOrThrow(row))
    }
    if (request.orderBy !== undefined && request.orderBy.length > 0) {
      const { sortRows } = await import('./sortRows')
      rows = sortRows(table.description, rows, request.orderBy)
    }
    const start = request.offset ?? 0
    const end = request.limit === undefined ? undefined : start + request.limit
    return { rows: start === 0 && end === undefined ? rows : rows.slice(start, end), ...result }
  }

  for (const init of options.tables ?? []) createTable(init)

  return {
    kind: 'memory',
    describeTable: async (schema, name) => tables.get(tableId(schema, name))?.description,
    snapshot,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    currentLsn: () => lsn,
    async close() {
      closed = true
      listeners.clear()
    },
    createTable,
    transaction,
    insert: (table, row) => committedXid(transaction((tx) => tx.insert(table, row))),
    update: (table, changes, key) => committedXid(transaction((tx) => tx.update(table, changes, key))),
    delete: (table, key) => committedXid(transaction((tx) => tx.delete(table, key))),
    truncate: (table) => committedXid(transaction((tx) => tx.truncate(table))),
    rows: (table) => [...resolve(table).rows.values()].map((row) => ({ ...row })),
  }
}

/** The xid of a one-statement transaction (always committed: the statement changed a row or truncated). */
function committedXid(committed: { xid: string } | undefined): number {
  return Number(committed?.xid)
}

function splitRef(ref: MemoryTableRef): { schema: string; name: string } {
  if (typeof ref !== 'string') return ref
  const dot = ref.indexOf('.')
  return dot === -1 ? { schema: 'public', name: ref } : { schema: ref.slice(0, dot), name: ref.slice(dot + 1) }
}

function tableId(schema: string, name: string): string {
  return JSON.stringify([schema, name])
}

function checkSourceOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('createMemorySource options', 'an object', options)
  const { tables } = options as { tables?: unknown }
  if (tables !== undefined && !Array.isArray(tables)) {
    throw new InvalidOptionsError('Memory source: "tables" must be a list of table definitions ({ name, columns, rows? })')
  }
}

/** A table definition as JavaScript may pass it (see the invariants above); `count` tables exist before it. */
function checkTableInit(init: unknown, count: number): asserts init is MemoryTableInit {
  const { schema, name, columns, rows } = (typeof init === 'object' && init !== null ? init : {}) as Record<string, unknown>
  if (typeof name !== 'string' || name === '') throw new InvalidOptionsError(`Memory source: table #${count + 1} needs a "name"`)
  if (schema !== undefined && typeof schema !== 'string') throw new InvalidOptionsError(`Memory source: the "schema" of "${name}" must be a string`)
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new InvalidOptionsError(`Memory source: table "${name}" needs "columns": a list of { name, type } (e.g. { name: 'id', type: 'int4', primaryKey: true })`)
  }
  columns.forEach((column: unknown, index) => {
    const { name: columnName, type } = (typeof column === 'object' && column !== null ? column : {}) as Record<string, unknown>
    if (typeof columnName !== 'string' || typeof type !== 'string') {
      throw new InvalidOptionsError(`Memory source: column #${index + 1} of "${name}" needs a string "name" and "type"`)
    }
  })
  if (rows !== undefined && !Array.isArray(rows)) throw new InvalidOptionsError(`Memory source: "rows" of "${name}" must be a list of rows`)
}

function describe(schema: string, init: MemoryTableInit): TableDescription {
  let pkIndex = 0
  const columns: ColumnDescription[] = init.columns.map((column) => ({
    name: column.name,
    type: column.type,
    dims: column.dims ?? 0,
    notNull: column.notNull ?? column.primaryKey ?? false,
    pkIndex: column.primaryKey ? pkIndex++ : undefined,
    typeMod: column.typeMod ?? -1,
  }))
  const primaryKey = columns.filter((column) => column.pkIndex !== undefined).map((column) => column.name)
  return { schema, name: init.name, columns, primaryKey: primaryKey.length > 0 ? primaryKey : columns.map((c) => c.name) }
}

function toWireValue(value: MemoryValue | undefined): WireValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  // Printed as PostgreSQL prints a float8 (`1e-07`), so keys and values read as they would from the database.
  if (typeof value === 'number') return float8Text(value)
  return String(value)
}

function toPartialWire(row: MemoryRow): WireRow {
  const wire: WireRow = {}
  for (const [name, value] of Object.entries(row)) wire[name] = toWireValue(value)
  return wire
}

/** A full row of the table: unknown columns are refused, missing ones are NULL (or kept from `previous`). */
function toWireRow(table: TableDescription, row: MemoryRow, previous: WireRow | undefined): WireRow {
  const names = new Set(table.columns.map((column) => column.name))
  for (const name of Object.keys(row)) {
    if (!names.has(name)) throw new Error(`Memory source: column "${name}" does not exist in "${table.name}"`)
  }
  const wire: WireRow = {}
  for (const column of table.columns) {
    const value = column.name in row ? toWireValue(row[column.name]) : (previous?.[column.name] ?? null)
    if (value === null && column.notNull) {
      throw new Error(`Memory source: null value in column "${column.name}" violates not-null constraint`)
    }
    wire[column.name] = value
  }
  return wire
}

function rowKey(table: TableDescription, row: WireRow): string {
  return JSON.stringify(table.primaryKey.map((name) => row[name] ?? null))
}
