/**
 * `SourceFixture` over the memory source: one fresh source per fixture, SQL type aliases mapped to catalog names.
 */
import { createMemorySource } from '../../../src/server/sources/memory'
import type { MemoryRow, MemoryTransaction, MemoryValue } from '../../../src/server/sources/memory'
import type { FixtureWrites, SourceFixture } from './fixture'

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  integer: 'int4',
  int: 'int4',
  bigint: 'int8',
  smallint: 'int2',
  boolean: 'bool',
  'double precision': 'float8',
  real: 'float4',
}

let tableCounter = 0

function toRow(values: Record<string, unknown>): MemoryRow {
  const row: MemoryRow = {}
  for (const [name, value] of Object.entries(values)) row[name] = value as MemoryValue
  return row
}

/** A fixture over a new memory source. */
export async function createMemoryFixture(): Promise<SourceFixture> {
  const source = createMemorySource()
  const writes = (run: (op: (tx: MemoryTransaction) => void) => void): FixtureWrites => ({
    insert: async (table, row) => run((tx) => tx.insert(table, toRow(row))),
    update: async (table, key, changes) => run((tx) => tx.update(table, toRow(changes), toRow(key))),
    delete: async (table, key) => run((tx) => tx.delete(table, toRow(key))),
    truncate: async (table) => run((tx) => tx.truncate(table)),
  })
  return {
    source,
    async createTable(def) {
      tableCounter += 1
      const name = `${def.name.toLowerCase()}_${tableCounter}`
      source.createTable({
        name,
        columns: def.columns.map((column) => ({
          name: column.name,
          type: TYPE_ALIASES[column.type.toLowerCase()] ?? column.type.toLowerCase(),
          ...(column.primaryKey ? { primaryKey: true } : {}),
          ...(column.notNull ? { notNull: true } : {}),
        })),
      })
      return name
    },
    ...writes((op) => source.transaction(op)),
    async transaction(fn) {
      const ops: ((tx: MemoryTransaction) => void)[] = []
      await fn(writes((op) => ops.push(op)))
      source.transaction((tx) => {
        for (const op of ops) op(tx)
      })
    },
    close: () => source.close(),
  }
}
