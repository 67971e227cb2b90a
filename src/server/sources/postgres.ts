/**
 * The PostgreSQL source: logical replication with `pgoutput`, streamed by pg-logical-replication.
 *
 * Streaming (LogicalReplicationService) rather than polling `pg_logical_slot_get_binary_changes`: changes arrive
 * as soon as they commit, without a poll interval that would add latency or load, and the library already speaks
 * the replication sub-protocol (copy-both, keepalives, standby status). Decoding is ours (pgoutputDecoder.ts),
 * because the library's parser turns text values into JS values.
 *
 * Setup, in this order: a publication (empty, `publish_via_partition_root`), then a logical slot (so the slot can
 * see the publication). Both are owned by this source and dropped by `close()` (or when start-up fails); a process
 * killed before that leaves them behind (`SELECT pg_drop_replication_slot(...)` cleans up, and a source started
 * with the same `slotName` replaces an inactive leftover).
 *
 * Invariants:
 * - Q1. No triggers or other objects on users' tables: describing a table adds it to our publication and sets
 *   `REPLICA IDENTITY FULL` on it (as Electric does), so updates and deletes carry the whole old row (S4).
 * - Q2. A transaction's `lsn` is its commit LSN as a decimal bigint and `xid` its real xid; transactions whose
 *   LSN is not above the last delivered one (replayed after a reconnect) are dropped, so each is delivered once (S1).
 * - Q3. Values are text output under Electric's session settings (replication connection startup options and the
 *   snapshot transaction); booleans are normalized from pgoutput's `t`/`f` to `true`/`false` as `::text` gives (S2).
 * - Q4. The slot exists before the first `snapshot`: every transaction a snapshot does not see commits after the
 *   slot's start and is streamed (S3).
 * - Q5. A dropped replication connection is reopened from the slot (which resends everything not acknowledged);
 *   after `maxReconnectAttempts` consecutive failures the source is `failed`: `snapshot` and `describeTable`
 *   reject with {@link ReplicationStreamError}, and `onError` is called once.
 * - Q6. TRUNCATE of a published table arrives as pgoutput's Truncate message and is delivered in `truncated` (S5;
 *   the publication publishes truncate, its default).
 */
import pg from 'pg'
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication'
import type { WireRow } from '../../core/protocol'
import {
  currentSnapshot,
  describeTableWith,
  quoteIdent,
  quoteQualified,
  setTextOutputForTransaction,
  snapshotRowsSql,
  TEXT_OUTPUT_SETTINGS,
  type SqlQuery,
} from './describeTable'
import { PgoutputDecoder, type DecodedMessage, type DecodedRelation, type DecodedTuple } from './pgoutputDecoder'
import type {
  ChangeSource,
  SnapshotRequest,
  SnapshotResult,
  TableDescription,
  TableName,
  Transaction,
  TransactionChange,
} from './source'

/** Options of {@link createPostgresSource}. */
export interface PostgresSourceOptions {
  /** `postgresql://…`; the role needs REPLICATION (or superuser) and ownership of described tables. */
  databaseUrl: string
  /** Slot to create and drop; default `live_shapes_<random>`. */
  slotName?: string
  /** Publication to create and drop; default `live_shapes_<random>`. */
  publicationName?: string
  /** Consecutive failed reconnects before the source gives up (Q5); default 5. */
  maxReconnectAttempts?: number
  /** Delay before reconnect attempt `n` (1-based); default 100 ms × 2^(n-1). */
  reconnectDelayMs?: (attempt: number) => number
  /** Called once when the source gives up on the replication stream. */
  onError?: (error: ReplicationStreamError) => void
  /** Injected for tests; default `setTimeout`. */
  setTimeout?: (callback: () => void, ms: number) => unknown
  /** Injected for default slot/publication names; default `Math.random`. */
  random?: () => number
}

/** The replication stream was lost and could not be reopened (Q5). */
export class ReplicationStreamError extends Error {
  readonly code = 'replication-stream-lost' as const
  override readonly cause: unknown
  constructor(message: string, cause: unknown) {
    super(message)
    this.name = 'ReplicationStreamError'
    this.cause = cause
  }
}

/** A {@link ChangeSource} over PostgreSQL logical replication. */
export interface PostgresSource extends ChangeSource {
  readonly kind: 'postgres'
  readonly slotName: string
  readonly publicationName: string
  /** `streaming` while the replication connection is up, `reconnecting` between attempts. */
  readonly state: PostgresSourceState
}

/** Where the replication stream is (Q5); `failed` is final. */
export type PostgresSourceState = 'streaming' | 'reconnecting' | 'failed' | 'closed'

const BOOL_OID = 16

/** Startup options so the walsender formats values as Electric's connections do (Q3). */
const REPLICATION_OPTIONS = TEXT_OUTPUT_SETTINGS.map(
  (setting) => `-c ${setting.name}=${setting.value.replaceAll(' ', '')}`,
).join(' ')

/**
 * Connects, creates the publication and the slot, and starts streaming.
 *
 * @example
 * const source = await createPostgresSource({ databaseUrl: process.env.DATABASE_URL! })
 * const handler = createShapeHandler({ source })
 */
export async function createPostgresSource(options: PostgresSourceOptions): Promise<PostgresSource> {
  const random = options.random ?? Math.random
  const suffix = (): string => Math.floor(random() * 2 ** 48).toString(36)
  const slotName = options.slotName ?? `live_shapes_${suffix()}`
  const publicationName = options.publicationName ?? `live_shapes_${suffix()}`
  for (const [option, name] of [
    ['slotName', slotName],
    ['publicationName', publicationName],
  ] as const) {
    // Slot names allow only these; START_REPLICATION splices the publication name into a quoted option value.
    if (!/^[a-z0-9_]{1,63}$/.test(name)) {
      throw new TypeError(`${option} must be 1-63 of a-z, 0-9 and _, got ${JSON.stringify(name)}`)
    }
  }
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 })
  // An idle pooled connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined)
  let publicationCreated = false
  let startLsn: bigint
  try {
    const existing = await pool.query('SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1', [publicationName])
    if (existing.rowCount === 0) {
      await pool.query(`CREATE PUBLICATION ${quoteIdent(publicationName)} WITH (publish_via_partition_root = true)`)
    }
    publicationCreated = true
    // A slot of this name left inactive by a killed run would only hold WAL back: replace it.
    await pool.query(
      `SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots
        WHERE slot_name = $1 AND NOT active`,
      [slotName],
    )
    const slot = await pool.query<{ lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')",
      [slotName],
    )
    startLsn = parseLsn(slot.rows[0]?.lsn ?? '0/0')
  } catch (error) {
    // Leave nothing behind when the source never came up (the slot is created last: nothing of it to drop here).
    if (publicationCreated) {
      await pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publicationName)}`).catch(() => undefined)
    }
    await pool.end().catch(() => undefined)
    throw error
  }
  const source = new PostgresChangeSource(pool, options, slotName, publicationName, startLsn)
  try {
    await source.start()
  } catch (error) {
    // The slot exists: close() drops it (retrying while the failed walsender still holds it), the publication and
    // the pool, as for any source.
    await source.close().catch(() => undefined)
    throw error
  }
  return source
}

/** `X/Y` (hex halves) → bigint. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/')
  if (high === undefined || low === undefined) throw new Error(`not an LSN: ${text}`)
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`)
}

interface OpenTransaction {
  xid: string
  lsn: bigint
  changes: TransactionChange[]
  truncated: TableName[]
}

class PostgresChangeSource implements PostgresSource {
  readonly kind = 'postgres' as const
  readonly slotName: string
  readonly publicationName: string
  readonly #pool: pg.Pool
  readonly #options: PostgresSourceOptions
  readonly #listeners = new Set<(transaction: Transaction) => void>()
  readonly #published = new Set<string>()
  readonly #decoder = new PgoutputDecoder()
  #service: LogicalReplicationService | undefined
  #lsn: bigint
  #open: OpenTransaction | undefined
  #state: PostgresSourceState = 'reconnecting'
  #failure: ReplicationStreamError | undefined
  #failedAttempts = 0
  #running: Promise<void> = Promise.resolve()

  constructor(
    pool: pg.Pool,
    options: PostgresSourceOptions,
    slotName: string,
    publicationName: string,
    startLsn: bigint,
  ) {
    this.#pool = pool
    this.#options = options
    this.slotName = slotName
    this.publicationName = publicationName
    this.#lsn = startLsn
  }

  get state(): PostgresSourceState {
    return this.#state
  }

  /** Resolves once the first replication connection streams; rejects when it cannot be opened at all. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#running = this.#stream(resolve, reject)
    })
  }

  async describeTable(schema: string, name: string): Promise<TableDescription | undefined> {
    this.#assertUsable()
    const table = await describeTableWith(
      async (sql, params) => (await this.#pool.query(sql, [...params])).rows as Record<string, unknown>[],
      schema,
      name,
    )
    if (table === undefined) return undefined
    const qualified = quoteQualified(table.schema, table.name)
    if (!this.#published.has(qualified)) {
      await this.#publish(table, qualified)
      this.#published.add(qualified)
    }
    return table
  }

  async snapshot(request: SnapshotRequest): Promise<SnapshotResult> {
    this.#assertUsable()
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const query: SqlQuery = async (sql, params) => (await client.query(sql, [...params])).rows
      await setTextOutputForTransaction(query)
      const visibility = await currentSnapshot(query)
      const lsn = this.#lsn
      const rows = await client.query<WireRow>(snapshotRowsSql(request.table, request.where), [...request.params])
      await client.query('COMMIT')
      return { rows: rows.rows, ...visibility, lsn }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
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
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#listeners.clear()
    await this.#service?.destroy().catch(() => undefined)
    await this.#running.catch(() => undefined)
    try {
      await this.#dropSlot()
      await this.#pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(this.publicationName)}`)
    } finally {
      await this.#pool.end()
    }
  }

  /** The walsender may hold the slot for a moment after its connection closed: retry while it is in use. */
  async #dropSlot(): Promise<void> {
    const schedule = this.#options.setTimeout ?? setTimeout
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#pool.query(
          'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
          [this.slotName],
        )
        return
      } catch (error) {
        const inUse = (error as { code?: unknown }).code === '55006'
        if (!inUse || attempt >= 100) throw error
        await new Promise<void>((resolve) => {
          schedule(resolve, 20)
        })
      }
    }
  }

  async #publish(table: TableDescription, qualified: string): Promise<void> {
    await this.#pool.query(`ALTER TABLE ${qualified} REPLICA IDENTITY FULL`)
    const member = await this.#pool.query(
      `SELECT 1 FROM pg_catalog.pg_publication_rel pr
         JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
         JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE p.pubname = $1 AND n.nspname = $2 AND c.relname = $3`,
      [this.publicationName, table.schema, table.name],
    )
    if (member.rowCount === 0) {
      await this.#pool.query(`ALTER PUBLICATION ${quoteIdent(this.publicationName)} ADD TABLE ${qualified}`)
    }
  }

  /** A method, not an inline comparison: `close()` may run across any `await` of the stream loop. */
  #isClosed(): boolean {
    return this.#state === 'closed'
  }

  #assertUsable(): void {
    if (this.#state === 'closed') throw new Error('PostgreSQL source is closed')
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Keeps one replication connection open until closed or out of attempts (Q5). */
  async #stream(onStarted: () => void, onFirstFailure: (error: unknown) => void): Promise<void> {
    let started = false
    while (this.#state !== 'closed') {
      const service = new LogicalReplicationService(
        { connectionString: this.#options.databaseUrl, options: REPLICATION_OPTIONS },
        { acknowledge: { auto: true, timeoutSeconds: 10 } },
      )
      this.#service = service
      service.on('error', () => undefined)
      service.on('start', () => {
        this.#state = 'streaming'
        this.#failedAttempts = 0
        if (!started) {
          started = true
          onStarted()
        }
      })
      service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) => {
        if (shouldRespond) void service.acknowledge(lsn)
      })
      service.on('data', (_lsn: string, message: DecodedMessage) => this.#onMessage(message))
      let failure: unknown
      try {
        // '0/0': the server resumes from the slot's confirmed position; Q2 drops what we already delivered.
        await service.subscribe(new TextPgoutputPlugin(this.#decoder, this.publicationName), this.slotName, '0/0')
        failure = new Error('replication stream ended')
      } catch (error) {
        failure = error
      }
      await service.destroy().catch(() => undefined)
      this.#open = undefined
      if (this.#isClosed()) return
      if (!started) {
        onFirstFailure(failure)
        return
      }
      this.#failedAttempts += 1
      const maxAttempts = this.#options.maxReconnectAttempts ?? 5
      if (this.#failedAttempts > maxAttempts) {
        this.#state = 'failed'
        this.#failure = new ReplicationStreamError(
          `replication stream lost and not reopened after ${maxAttempts} attempts`,
          failure,
        )
        this.#options.onError?.(this.#failure)
        return
      }
      this.#state = 'reconnecting'
      const delay = (this.#options.reconnectDelayMs ?? ((attempt) => 100 * 2 ** (attempt - 1)))(this.#failedAttempts)
      const schedule = this.#options.setTimeout ?? setTimeout
      await new Promise<void>((resolve) => {
        schedule(resolve, delay)
      })
    }
  }

  #onMessage(message: DecodedMessage): void {
    switch (message.tag) {
      case 'begin':
        this.#open = { xid: message.xid, lsn: message.finalLsn, changes: [], truncated: [] }
        return
      case 'insert':
      case 'update':
      case 'delete':
        this.#open?.changes.push(toChange(message))
        return
      case 'truncate':
        for (const relation of message.relations) this.#open?.truncated.push({ schema: relation.schema, table: relation.name })
        return
      case 'commit': {
        const open = this.#open
        this.#open = undefined
        if (open === undefined || open.lsn <= this.#lsn) return
        this.#lsn = open.lsn
        if (open.changes.length === 0 && open.truncated.length === 0) return
        const transaction: Transaction = { xid: open.xid, lsn: open.lsn, changes: open.changes, truncated: open.truncated }
        for (const listener of [...this.#listeners]) listener(transaction)
        return
      }
      default:
        return
    }
  }
}

/**
 * pgoutput with our decoder. The service hands whatever `parse` returns to `data` listeners untouched, so the
 * declared return type of the library's parser is not what flows; the cast is confined to this class.
 */
class TextPgoutputPlugin extends PgoutputPlugin {
  readonly #decoder: PgoutputDecoder
  constructor(decoder: PgoutputDecoder, publicationName: string) {
    super({ protoVersion: 1, publicationNames: [publicationName] })
    this.#decoder = decoder
  }
  override parse(buffer: Buffer): Pgoutput.Message {
    return this.#decoder.decode(buffer) as unknown as Pgoutput.Message
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

/** Booleans as `::text` prints them (Q3); everything else as sent. */
function textRow(tuple: DecodedTuple, relation: DecodedRelation): WireRow {
  const row: WireRow = {}
  for (const column of relation.columns) {
    const value = tuple[column.name]
    if (value === undefined) continue
    row[column.name] = column.typeOid === BOOL_OID && value !== null ? (value === 't' ? 'true' : 'false') : value
  }
  return row
}
