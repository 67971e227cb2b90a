/**
 * The contract between the dev shape server and a database: PGlite, PostgreSQL or the in-memory table.
 *
 * Invariants every source keeps:
 * - `subscribe` delivers every committed transaction exactly once, in commit order, with strictly increasing
 *   `lsn`; within a transaction, changes are in statement order.
 * - All values are Postgres text output (`col::text`; booleans may be `t`/`f` or `true`/`false`) or null, for
 *   every column of the table, whatever shape asks: projection and filtering are the server's job.
 * - `snapshot` is one consistent read; its `xmin`/`xmax`/`xipList` say which transactions it already contains
 *   (Postgres visibility: xid < xmin, or xid < xmax and not in xipList). A transaction delivered by `subscribe`
 *   is either visible in a snapshot or will be delivered after `subscribe` was called before the snapshot began.
 * - `update` carries the full new row and, when the source knows it, the full old row (`oldRow`); `delete`
 *   carries the full old row when known, at least its primary key.
 * - A `TRUNCATE` is delivered as its table in the transaction's `truncated` list, not as row deletes; a
 *   transaction that only truncates is still delivered.
 * - A table whose columns changed (ALTER TABLE add/drop/rename column, type change) is delivered in the
 *   `schemaChanged` list of a transaction no later than the first one carrying a change made under the new columns,
 *   so no shape subscribed before the change appends rows of the new shape (a shape described before the change
 *   but subscribed after its delivery never hears of it: the SQL sources' snapshots check the description
 *   instead, describeTable.ts). A source may name a table whose columns did not change (a false alarm costs its
 *   shapes a resync); what each source detects, and when, is in its own file. A transaction that only changes a
 *   schema may be delivered with no changes.
 * - A snapshot's `databaseLsn` is greater than the `lsn` of every transaction visible in it and not greater than
 *   the `lsn` of any transaction that commits after `snapshot` returned, so a reader of the stream knows it has
 *   passed the snapshot at the first change whose LSN reaches it (the subset metadata's `database_lsn`).
 * - `orderBy`, `offset` and `limit` apply after `where`, in that order, within the same consistent read; each
 *   term sorts by one column with an explicit direction and NULLS placement.
 * - A source that can give up for good (its own file says when) reports why from `failure()` from then on, and
 *   undefined before; it is a field read, cheap enough to ask on every request.
 * - A snapshot with `timeoutMs` fails when its queries run longer (`statement_timeout`, local to the snapshot's
 *   transaction, on PostgreSQL; PGlite accepts but cannot enforce it, pglite.ts); one whose `signal` aborts stops as
 *   soon as the source can (PostgreSQL cancels the running query; PGlite, which runs one query at a time, skips the
 *   queries not yet started) and rejects with the signal's reason or the database's cancellation error, leaving
 *   nothing held.
 */
import type { Operation, WireRow } from '../../core/protocol'

export interface ColumnDescription {
  name: string
  /** Postgres type name (`int4`, `text`, `timestamptz`…); for arrays the element type. */
  type: string
  /** Array dimensions, 0 for scalars. */
  dims: number
  notNull: boolean
  /** Position in the primary key, if the column is part of it. */
  pkIndex: number | undefined
  /** Type modifier as in pg_attribute.atttypmod (-1 when none). */
  typeMod: number
  /** Present on a generated column (`GENERATED ALWAYS AS (…)`), whose value PostgreSQL computes. */
  generated?: true
}

/** A table as a source describes it: the columns the server serves and the primary key it builds row keys from. */
export interface TableDescription {
  schema: string
  name: string
  /** In table order. */
  columns: readonly ColumnDescription[]
  /** Primary key column names in key order; all columns when the table has no primary key. */
  primaryKey: readonly string[]
}

/** One `ORDER BY` term of a snapshot: a column of the table. */
export interface SnapshotOrder {
  column: string
  direction: 'asc' | 'desc'
  nulls: 'first' | 'last'
}

/** What the server asks a source to read for a shape's snapshot or a subset page (see the invariants above). */
export interface SnapshotRequest {
  table: TableDescription
  /** A validated SQL boolean expression over the table's columns using `$1..$n`, or undefined for all rows. */
  where: string | undefined
  params: readonly (string | null)[]
  /** Row order; unspecified when absent or empty. */
  orderBy?: readonly SnapshotOrder[]
  /** Rows skipped after ordering. */
  offset?: number
  /** At most this many rows after the offset. */
  limit?: number
  /** Time limit of each of the snapshot's queries, in ms (time limit and abort, above); none when absent. */
  timeoutMs?: number
  /** Aborts the snapshot (time limit and abort, above): the request it serves is gone. */
  signal?: AbortSignal
}

/** One consistent read: the rows and the transaction visibility the server matches live changes against. */
export interface SnapshotResult {
  rows: WireRow[]
  /** Decimal transaction ids, as `pg_current_snapshot()` reports them. */
  xmin: string
  xmax: string
  xipList: string[]
  /** The LSN the source had processed when the snapshot was taken (decimal). */
  lsn: bigint
  /** Above every LSN visible in the snapshot, at most the LSN of any later commit. */
  databaseLsn: bigint
}

/** One row change of a committed transaction, with full rows (see the invariants above). */
export interface TransactionChange {
  schema: string
  table: string
  operation: Operation
  /** New row for insert/update; old row (or its key) for delete. */
  row: WireRow
  /** Full previous row of an update, when known. */
  oldRow: WireRow | undefined
}

/** A table named by schema and name. */
export interface TableName {
  schema: string
  table: string
}

/** A committed transaction as a source delivers it to `subscribe` listeners. */
export interface Transaction {
  /** Decimal transaction id. */
  xid: string
  /** Commit LSN, strictly increasing across transactions. */
  lsn: bigint
  changes: readonly TransactionChange[]
  /** Tables this transaction truncated; absent or empty when none. */
  truncated?: readonly TableName[]
  /** Tables whose columns changed at or before this transaction; absent or empty when none. */
  schemaChanged?: readonly TableName[]
}

/**
 * The contract between the shape server and a database (see the invariants above): `createMemorySource`,
 * `createPGliteSource` and `createPostgresSource` return one; `createShapeHandler({ source })` takes any.
 * @example
 * const handler = createShapeHandler({ source: await createPGliteSource() })
 */
export interface ChangeSource {
  readonly kind: 'memory' | 'pglite' | 'postgres'
  /** Resolves a table by schema and name as Postgres would (already unquoted); undefined when there is none. */
  describeTable(schema: string, name: string): Promise<TableDescription | undefined>
  /** One consistent read of the rows matching `where`. Rejects with the database's error for bad SQL. */
  snapshot(request: SnapshotRequest): Promise<SnapshotResult>
  /** Every committed transaction from now on. */
  subscribe(listener: (transaction: Transaction) => void): () => void
  /** The last LSN the source has processed. */
  currentLsn(): bigint
  /** Why the source gave up for good, or undefined while it works; absent on sources that cannot fail so. */
  failure?(): Error | undefined
  close(): Promise<void>
}
