/**
 * Decoded pgoutput messages → the source's transactions, for the PostgreSQL source.
 *
 * Invariants:
 * - A transaction's `lsn` is its commit LSN as a decimal bigint and `xid` its real xid; transactions whose LSN
 *   is not above the last one passed (replayed after a reconnect) are dropped, so each is delivered once. A
 *   commit with nothing in it still advances the LSN.
 * - Values are sent as text output; booleans are normalized from pgoutput's `t`/`f` to `true`/`false` as
 *   `::text` gives.
 * - TRUNCATE arrives as pgoutput's Truncate message and is delivered in `truncated`.
 * - The Relation messages of a transaction are compared with the table baselines (relationSchemas.ts)
 *   when its commit is delivered, not when they arrive: a changed table is delivered in that transaction's
 *   `schemaChanged`, ahead of its row changes in the registry's eyes (the whole transaction drops the shape).
 *   Relation messages of replayed or abandoned transactions are not compared.
 */
import type { WireRow } from '../../core/protocol'
import type { DecodedMessage, DecodedRelation, DecodedTuple } from './pgoutputDecoder'
import { RelationSchemas } from './relationSchemas'
import type { TableName, Transaction, TransactionChange } from './source'

const BOOL_OID = 16

interface OpenTransaction {
  xid: string
  lsn: bigint
  changes: TransactionChange[]
  truncated: TableName[]
  relations: DecodedRelation[]
}

/**
 * Groups the messages of one replication stream into transactions.
 * @example
 * const transactions = new PgoutputTransactions(slotLsn)
 * service.on('data', (_lsn, message) => { const done = transactions.push(message); if (done) deliver(done) })
 */
export class PgoutputTransactions {
  #open: OpenTransaction | undefined
  #lsn: bigint
  /** The table baselines Relation messages are compared with; `know` them when describing a table. */
  readonly schemas: RelationSchemas

  /** `startLsn`: nothing at or below it is passed on. */
  constructor(startLsn: bigint, schemas: RelationSchemas = new RelationSchemas()) {
    this.#lsn = startLsn
    this.schemas = schemas
  }

  /** The commit LSN of the last transaction seen. */
  get lsn(): bigint {
    return this.#lsn
  }

  /** Takes one message; returns the transaction its commit completes when it is new and carries anything. */
  push(message: DecodedMessage): Transaction | undefined {
    switch (message.tag) {
      case 'begin':
        this.#open = { xid: message.xid, lsn: message.finalLsn, changes: [], truncated: [], relations: [] }
        return undefined
      case 'relation':
        this.#open?.relations.push(message.relation)
        return undefined
      case 'insert':
      case 'update':
      case 'delete':
        this.#open?.changes.push(toChange(message))
        return undefined
      case 'truncate':
        for (const relation of message.relations) this.#open?.truncated.push({ schema: relation.schema, table: relation.name })
        return undefined
      case 'commit': {
        const open = this.#open
        this.#open = undefined
        if (open === undefined || open.lsn <= this.#lsn) return undefined
        this.#lsn = open.lsn
        const schemaChanged = open.relations.flatMap((relation) => this.schemas.accept(relation))
        if (open.changes.length === 0 && open.truncated.length === 0 && schemaChanged.length === 0) return undefined
        return { xid: open.xid, lsn: open.lsn, changes: open.changes, truncated: open.truncated, schemaChanged }
      }
      default:
        return undefined
    }
  }

  /** Drops a transaction cut off by a lost connection: the slot sends it again, whole, on the next one. */
  abandon(): void {
    this.#open = undefined
  }
}

type RowMessage = Extract<DecodedMessage, { tag: 'insert' | 'update' | 'delete' }>

function toChange(message: RowMessage): TransactionChange {
  const { relation } = message
  const base = { schema: relation.schema, table: relation.name }
  switch (message.tag) {
    case 'insert':
      return { ...base, operation: 'insert', row: textRow(message.newTuple, relation), oldRow: undefined }
    case 'update':
      return {
        ...base,
        operation: 'update',
        row: textRow(message.newTuple, relation),
        oldRow: message.oldKind === 'full' && message.oldTuple ? textRow(message.oldTuple, relation) : undefined,
      }
    case 'delete':
      return { ...base, operation: 'delete', row: textRow(message.oldTuple, relation), oldRow: undefined }
  }
}

/** Booleans as `::text` prints them; everything else as sent. */
function textRow(tuple: DecodedTuple, relation: DecodedRelation): WireRow {
  const row: WireRow = {}
  for (const column of relation.columns) {
    const value = tuple[column.name]
    if (value === undefined) continue
    row[column.name] = column.typeOid === BOOL_OID && value !== null ? (value === 't' ? 'true' : 'false') : value
  }
  return row
}
