/**
 * The embedded source: PGlite (PostgreSQL 18 in WASM) with trigger-based change capture.
 *
 * PGlite has one connection, so its transactions run one after another and commit order is the order in which
 * they ran. A row trigger on every described table appends each change, as text values, to
 * `live_shapes.changes` and notifies; the source then reads the committed rows, groups them by xid and deletes them.
 * A partition's row trigger is its tree root's (PostgreSQL clones a partitioned table's row triggers to every
 * partition and lets no partition hold another of the same name), and a change to a partition is recorded for the
 * partition and for each of its ancestors: the shapes of the partitioned table and those of one partition both
 * follow it. TRUNCATE triggers are not cloned: a described partition's TRUNCATE is recorded for its ancestors too,
 * while that of a partition never described reaches no shape (as on PostgreSQL with `publish_via_partition_root`).
 *
 * Invariants:
 * - Values are their output function's text (`col::text` where that is the same, see `textOf`) under Electric's
 *   session settings (set on the capture function itself and in the snapshot transaction), so snapshot rows and
 *   changes agree; booleans are `true`/`false`.
 * - A transaction's LSN is the id of its last change row: ids come from one sequence, serialized transactions
 *   take them in commit order, so LSNs strictly increase and survive restarts of a persisted data dir.
 * - A change row is delivered once: reads take only ids above the last delivered one, whether or not the
 *   delete that follows committed.
 * - `snapshot` first delivers every committed change and then reads `pg_current_snapshot()` and the rows in the
 *   same REPEATABLE READ transaction: nothing it sees is delivered after it, and everything it misses is.
 * - Installing capture is idempotent; changes made to a table before it was first described are not captured.
 *   Whether a table is captured is read from the catalog on each description, so a table dropped and created again
 *   under the same name is captured again.
 *   A statement-level trigger captures TRUNCATE as one `truncate` change row, delivered in `truncated`.
 * - One source per PGlite instance at a time: a source consumes (deletes) the change rows it reads, so a second
 *   live source on the same database would miss them. Sources opened one after another are fine.
 * - Schema changes: a captured table's signature (schema, name, columns with type oid, modifier and NOT
 *   NULL, primary key) is stored in `live_shapes.captured` when capture is installed, before the table is
 *   described. An event trigger at the end of every ALTER TABLE compares the altered captured tables' signatures
 *   with the stored ones; a table whose signature changed gets one `schema` change row under its stored name (so
 *   a renamed table changes its old name) in the ALTER's own transaction, delivered in `schemaChanged` as soon as
 *   that transaction commits, with or without a row change after it; the stored name then follows a RENAME. Other
 *   DDL (DROP TABLE, ALTER TYPE) is not watched. The event trigger fires on every ALTER TABLE of the database, so
 *   `close()` drops it on a database the caller owns (the next source recreates it); the row triggers stay, and
 *   what they capture while no source runs is discarded by the next source's start.
 * - A snapshot's `databaseLsn` is one above the last change id it delivered: every transaction visible
 *   in it has an LSN at most that id, every later one takes ids from the sequence above it.
 * - A snapshot's `timeoutMs` is set as its transaction's `statement_timeout`, but PGlite (single-threaded WASM, no
 *   timer interrupt) accepts the setting without enforcing it, and cannot interrupt a running query either. So an
 *   aborted snapshot rejects at once (the caller stops waiting, even while queued behind other queries) and starts no
 *   further query; its transaction rolls back (source.ts: time limit and abort). What keeps one PGlite query short is
 *   the `where` size caps (where/whereLimits.ts).
 */
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite'
import type { WireRow } from '../../core/protocol'
import { quoteIdentifier } from '../identifiers'
import {
  assertTableUnchanged,
  currentSnapshot,
  describeTableWith,
  quoteQualified,
  setTextOutputForTransaction,
  snapshotRowsSql,
  outputText,
  TEXT_OUTPUT_SETTINGS,
  textOf,
  type SqlQuery,
} from './describeTable'
import { setStatementTimeout } from './statementTimeout'
import type {
  ChangeSource,
  SnapshotRequest,
  SnapshotResult,
  TableDescription,
  TableName,
  Transaction,
  TransactionChange,
} from './source'

/** Options of {@link createPGliteSource}. */
export interface PGliteSourceOptions {
  /** Where PGlite keeps its files; in memory when omitted. Ignored when `db` is given. */
  dataDir?: string
  /** An existing instance to capture from; the source then does not close it. */
  db?: PGlite
}

/** A {@link ChangeSource} over PGlite; `db` is the instance to write to. */
export interface PGliteSource extends ChangeSource {
  readonly kind: 'pglite'
  readonly db: PGlite
}

const CHANNEL = 'live_shapes_changes'
const SCHEMA = 'live_shapes'
const CHANGES = `${SCHEMA}.changes`
const CAPTURE = `${SCHEMA}.capture()`
const CAPTURED = `${SCHEMA}.captured`
const SIGNATURE = `${SCHEMA}.signature`
/** Database-wide, unlike the row triggers: dropped by `close()` on a database the caller owns. */
const DDL_TRIGGER = 'live_shapes_capture_ddl'

/**
 * PGlite serializes a parameter by the type it infers (`bool` by truthiness, so `'false'` would bind as true;
 * `bytea` and dates reject strings; json is stringified again). Params here are wire text already: a serializer
 * for every type oid passes them through untouched.
 */
export const TEXT_PARAMS: Readonly<Record<number, (value: unknown) => string>> = new Proxy(
  {},
  { get: () => (value: unknown) => String(value) },
)

/**
 * `format()` templates of a captured column's text output, from the rule the snapshot query uses: `::text` for
 * `bool` (`true`/`false`), the output function for every other type (which is what `::text` gives wherever the
 * snapshot casts).
 */
const BOOL_TEXT = textOf({ type: 'bool', dims: 0 }, '($1).%1$I').replaceAll("'", "''")
const OUTPUT_TEXT = outputText('($1).%1$I').replaceAll("'", "''")

const functionSettings = TEXT_OUTPUT_SETTINGS.map(
  (setting) => `SET ${setting.name} = '${setting.value.replaceAll("'", "''")}'`,
).join('\n  ')

const SETUP_SQL = `
CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
CREATE TABLE IF NOT EXISTS ${CHANGES} (
  id bigserial PRIMARY KEY,
  xid text NOT NULL DEFAULT pg_current_xact_id()::text,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  op text NOT NULL,
  new_row json,
  old_row json
);
CREATE OR REPLACE FUNCTION ${CAPTURE} RETURNS trigger LANGUAGE plpgsql
  ${functionSettings}
AS $capture$
DECLARE
  to_text_json text;
  new_row json;
  old_row json;
BEGIN
  -- A TRUNCATE (statement trigger) has no rows: only its op is recorded.
  IF TG_OP <> 'TRUNCATE' THEN
    -- Built per call from the catalog so columns added or dropped later are followed without reinstalling.
    SELECT 'SELECT json_object(ARRAY[' || coalesce(string_agg(quote_literal(attname), ',' ORDER BY attnum), '')
           || ']::text[], ARRAY[' || coalesce(string_agg(
                CASE WHEN atttypid = 'pg_catalog.bool'::regtype
                     THEN format('${BOOL_TEXT}', attname)
                     ELSE format('${OUTPUT_TEXT}', attname) END, ',' ORDER BY attnum), '')
           || ']::text[])'
      INTO to_text_json
      FROM pg_catalog.pg_attribute
     WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped;
    IF TG_OP <> 'DELETE' THEN EXECUTE to_text_json USING NEW INTO new_row; END IF;
    IF TG_OP <> 'INSERT' THEN EXECUTE to_text_json USING OLD INTO old_row; END IF;
  END IF;
  -- A partition's change is also its ancestors' (the root's row trigger fires on the partition).
  INSERT INTO ${CHANGES} (schema_name, table_name, op, new_row, old_row)
  SELECT n.nspname, c.relname, lower(TG_OP), new_row, old_row
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = TG_RELID OR c.oid IN (SELECT relid FROM pg_catalog.pg_partition_ancestors(TG_RELID))
   ORDER BY c.oid = TG_RELID DESC, c.oid;
  PERFORM pg_notify('${CHANNEL}', '');
  RETURN NULL;
END
$capture$;
CREATE TABLE IF NOT EXISTS ${CAPTURED} (
  relid oid PRIMARY KEY,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  signature text
);
-- What a shape's schema depends on: the table's name, its columns and their types, NOT NULL, the primary key.
CREATE OR REPLACE FUNCTION ${SIGNATURE}(relation oid) RETURNS text LANGUAGE sql STABLE AS $signature$
  SELECT format('%I.%I', n.nspname, c.relname)
         || '(' || coalesce((SELECT string_agg(format('%I %s %s %s', attname, atttypid, atttypmod, attnotnull), ', ' ORDER BY attnum)
                               FROM pg_catalog.pg_attribute
                              WHERE attrelid = relation AND attnum > 0 AND NOT attisdropped), '')
         || ') ' || coalesce((SELECT indkey::text FROM pg_catalog.pg_index WHERE indrelid = relation AND indisprimary), '')
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = relation
$signature$;
CREATE OR REPLACE FUNCTION ${SCHEMA}.capture_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $capture_ddl$
BEGIN
  -- The stored name follows a RENAME, so later changes are reported under the new name; this one is reported
  -- under the name from before the command (the "before" row), the one its shapes were described by.
  WITH altered AS (
    UPDATE ${CAPTURED} AS captured
       SET signature = ${SIGNATURE}(captured.relid),
           schema_name = (SELECT n.nspname FROM pg_catalog.pg_class c
                            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = captured.relid),
           table_name = (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = captured.relid)
      FROM ${CAPTURED} AS before
     WHERE before.relid = captured.relid
       AND captured.relid IN (SELECT objid FROM pg_catalog.pg_event_trigger_ddl_commands()
                               WHERE classid = 'pg_catalog.pg_class'::regclass)
       AND captured.signature IS DISTINCT FROM ${SIGNATURE}(captured.relid)
    RETURNING before.schema_name, before.table_name
  )
  INSERT INTO ${CHANGES} (schema_name, table_name, op) SELECT schema_name, table_name, 'schema' FROM altered;
  IF FOUND THEN PERFORM pg_notify('${CHANNEL}', ''); END IF;
END
$capture_ddl$;
-- No CREATE OR REPLACE for event triggers: recreated, so a persisted database gets this version's.
DROP EVENT TRIGGER IF EXISTS ${DDL_TRIGGER};
CREATE EVENT TRIGGER ${DDL_TRIGGER} ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION ${SCHEMA}.capture_ddl();
`

interface ChangeRow {
  id: string
  xid: string
  schema_name: string
  table_name: string
  op: string
  new_row: WireRow | null
  old_row: WireRow | null
}

/**
 * Starts PGlite (or adopts `options.db`), installs the capture schema and listens for changes.
 *
 * @example
 * const source = await createPGliteSource()
 * await source.db.exec('CREATE TABLE items (id int8 PRIMARY KEY, title text)')
 * const handler = createShapeHandler({ source })
 */
export async function createPGliteSource(options: PGliteSourceOptions = {}): Promise<PGliteSource> {
  const owned = options.db === undefined
  const db = options.db ?? (await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir }))
  await db.exec(SETUP_SQL)
  const source = new PGliteChangeSource(db, owned)
  await source.start()
  return source
}

class PGliteChangeSource implements PGliteSource {
  readonly kind = 'pglite' as const
  readonly db: PGlite
  readonly #owned: boolean
  readonly #listeners = new Set<(transaction: Transaction) => void>()
  #lastId = 0n
  #lsn = 0n
  #unlisten: (() => Promise<void>) | undefined
  #state: 'open' | 'closing' | 'closed' = 'open'
  #draining: Promise<void> = Promise.resolve()

  constructor(db: PGlite, owned: boolean) {
    this.db = db
    this.#owned = owned
  }

  async start(): Promise<void> {
    // Changes left by an earlier run belong to no subscriber: drop them, but start the LSN at the sequence's last
    // value so this run's LSNs continue above every LSN the earlier run handed out.
    const { rows } = await this.db.query<{ last: string }>(
      `SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS last FROM ${CHANGES}_id_seq`,
    )
    const last = BigInt(rows[0]?.last ?? '0')
    this.#lastId = last
    this.#lsn = last
    await this.db.query(`DELETE FROM ${CHANGES} WHERE id <= $1`, [last.toString()])
    this.#unlisten = await this.db.listen(CHANNEL, () => {
      void this.#drain()
    })
  }

  async describeTable(schema: string, name: string): Promise<TableDescription | undefined> {
    // Capturing the capture table would recurse: it is not a table shapes can ask for.
    if (schema === SCHEMA) return undefined
    const query: SqlQuery = async (sql, params) => (await this.db.query<Record<string, unknown>>(sql, [...params])).rows
    const table = await describeTableWith(query, schema, name)
    if (table === undefined) return undefined
    const qualified = quoteQualified(table.schema, table.name)
    // Read from the catalog, not remembered by name: a table dropped and created again under the same name (a dev
    // reset) is a new relation without the triggers.
    // The row trigger goes on the root of a partition tree, which clones it to every partition (present and
    // future), so a partition cannot hold its own; TRUNCATE triggers are not cloned and go on each described table.
    const { rows: installed } = await this.db.query<{ root: string; count: number }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS root,
              (SELECT count(*)::int FROM pg_catalog.pg_trigger
                WHERE (tgrelid = c.oid AND tgname = 'live_shapes_capture')
                   OR (tgrelid = $1::regclass AND tgname = 'live_shapes_capture_truncate')) AS count
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = coalesce(pg_catalog.pg_partition_root($1::regclass), $1::regclass)`,
      [qualified],
    )
    const root = installed[0]?.root ?? qualified
    if (installed[0]?.count === 2) return table
    // CREATE OR REPLACE TRIGGER (PostgreSQL 14+) and the upsert keep this idempotent across restarts of a persisted
    // database. The signature is stored before the description that shapes use is read, so an ALTER in between is
    // seen by the event trigger. Seeing it is not enough when it is delivered before the shape subscribes: the
    // snapshot's own check (describeTable.ts) refuses the out-of-date description then.
    await this.db.transaction(async (tx) => {
      await tx.exec(
        `CREATE OR REPLACE TRIGGER ${quoteIdentifier('live_shapes_capture')} AFTER INSERT OR UPDATE OR DELETE ON ${root}
         FOR EACH ROW EXECUTE FUNCTION ${CAPTURE};
         CREATE OR REPLACE TRIGGER ${quoteIdentifier('live_shapes_capture_truncate')} AFTER TRUNCATE ON ${qualified}
         FOR EACH STATEMENT EXECUTE FUNCTION ${CAPTURE};`,
      )
      await tx.query(
        `INSERT INTO ${CAPTURED} (relid, schema_name, table_name, signature)
         SELECT relid, $2, $3, ${SIGNATURE}(relid) FROM (SELECT $1::regclass::oid AS relid) AS described
         ON CONFLICT (relid) DO UPDATE
           SET schema_name = excluded.schema_name, table_name = excluded.table_name, signature = excluded.signature`,
        [qualified, table.schema, table.name],
      )
    })
    return describeTableWith(query, schema, name)
  }

  async snapshot(request: SnapshotRequest): Promise<SnapshotResult> {
    this.#assertOpen()
    const { signal } = request
    signal?.throwIfAborted()
    const snapshot = this.db.transaction(async (tx) => {
      // PGlite runs one query at a time and cannot interrupt one; an aborted snapshot starts no further query.
      const query: SqlQuery = async (sql, params) => {
        signal?.throwIfAborted()
        return (await tx.query<Record<string, unknown>>(sql, [...params])).rows
      }
      await query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', [])
      await setStatementTimeout(query, request.timeoutMs)
      await setTextOutputForTransaction(query)
      await this.#deliverPending(tx)
      const visibility = await currentSnapshot(query)
      await assertTableUnchanged(query, request.table)
      signal?.throwIfAborted()
      const rows = await tx.query<WireRow>(snapshotRowsSql(request.table, request.where, request), [...request.params], {
        serializers: TEXT_PARAMS,
      })
      // A snapshot's databaseLsn: every change visible here was delivered with an id up to #lsn; later commits take
      // larger ids.
      return { rows: rows.rows, ...visibility, lsn: this.#lsn, databaseLsn: this.#lsn + 1n }
    })
    if (signal === undefined) return snapshot
    // the caller stops waiting at the abort, even while the transaction still queues behind other queries.
    snapshot.catch(() => undefined)
    return new Promise<SnapshotResult>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      snapshot.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  subscribe(listener: (transaction: Transaction) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  currentLsn(): bigint {
    return this.#lsn
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    await this.#unlisten?.()
    await this.#draining.catch(() => undefined)
    this.#listeners.clear()
    this.#state = 'closed'
    if (this.#owned) await this.db.close()
    else await this.db.exec(`DROP EVENT TRIGGER IF EXISTS ${DDL_TRIGGER}`)
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error('PGlite source is closed')
  }

  /** Serializes drains so notifications arriving together read the table once each, in order. */
  #drain(): Promise<void> {
    if (this.#state !== 'open') return this.#draining
    this.#draining = this.#draining
      .then(() => (this.#state === 'open' ? this.db.transaction((tx) => this.#deliverPending(tx)) : undefined))
      .catch(() => undefined)
    return this.#draining
  }

  async #deliverPending(tx: PGliteTransaction): Promise<void> {
    const { rows } = await tx.query<ChangeRow>(
      // Ordered by the bigint column, qualified: a bare `id` in ORDER BY names the text output column, which sorts
      // '10' before '9' and so split and re-delivered a transaction whose change ids crossed a power of ten.
      `SELECT change.id::text AS id, xid, schema_name, table_name, op, new_row, old_row
         FROM ${CHANGES} AS change WHERE change.id > $1::bigint ORDER BY change.id`,
      [this.#lastId.toString()],
    )
    const last = rows[rows.length - 1]
    if (last === undefined) return
    this.#lastId = BigInt(last.id)
    for (const transaction of groupByXid(rows)) {
      this.#lsn = transaction.lsn
      for (const listener of [...this.#listeners]) listener(transaction)
    }
    await tx.query(`DELETE FROM ${CHANGES} WHERE id <= $1`, [last.id])
  }
}

/** Rows arrive in id order and a transaction's rows are contiguous (one connection): cut at each xid change. */
function groupByXid(rows: readonly ChangeRow[]): Transaction[] {
  const transactions: Transaction[] = []
  let current:
    | { xid: string; lsn: bigint; changes: TransactionChange[]; truncated: TableName[]; schemaChanged: TableName[] }
    | undefined
  for (const row of rows) {
    if (current === undefined || current.xid !== row.xid) {
      current = { xid: row.xid, lsn: 0n, changes: [], truncated: [], schemaChanged: [] }
      transactions.push(current)
    }
    current.lsn = BigInt(row.id)
    if (row.op === 'truncate') current.truncated.push({ schema: row.schema_name, table: row.table_name })
    else if (row.op === 'schema') current.schemaChanged.push({ schema: row.schema_name, table: row.table_name })
    else current.changes.push(toChange(row))
  }
  return transactions
}

function toChange(row: ChangeRow): TransactionChange {
  const base = { schema: row.schema_name, table: row.table_name }
  switch (row.op) {
    case 'insert':
      return { ...base, operation: 'insert', row: row.new_row ?? {}, oldRow: undefined }
    case 'update':
      return { ...base, operation: 'update', row: row.new_row ?? {}, oldRow: row.old_row ?? undefined }
    case 'delete':
      return { ...base, operation: 'delete', row: row.old_row ?? {}, oldRow: undefined }
    default:
      throw new Error(`unknown change operation ${row.op}`)
  }
}
