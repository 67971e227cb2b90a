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
 * Invariants (the publication and slot: `replicationObjects.ts`; messages → transactions, each delivered
 * once, booleans as `::text` prints them: `pgoutputTransactions.ts`):
 * - No triggers or other objects on users' tables: describing a table publishes it.
 * - Values are text output under Electric's session settings (replication connection startup options and the
 *   snapshot transaction).
 * - The slot exists before the first `snapshot`: every transaction a snapshot does not see commits after the
 *   slot's start and is streamed.
 * - A dropped replication connection is reopened from the slot (which resends everything not acknowledged);
 *   after `maxReconnectAttempts` consecutive failures the source is `failed`: `snapshot` and `describeTable`
 *   reject with {@link ReplicationStreamError}, `failure()` returns it, and `onError` is called once.
 * - TRUNCATE of a published table is delivered in `truncated` (not as row deletes; the publication publishes truncate,
 *   its default).
 * - A change of a published table's columns is delivered in `schemaChanged` with the table's next row
 *   change or TRUNCATE, in that change's transaction (pgoutput sends no DDL: an ALTER followed by no write is not
 *   seen). The first `describeTable` of a table reads its column signature before describing it, as the baseline
 *   Relation messages are compared with (relationSchemas.ts).
 * - A snapshot's `timeoutMs` is its transaction's `statement_timeout`; its `signal` cancels the running query
 *   with `pg_cancel_backend` from a separate connection and the pooled connection is destroyed once the cancel is
 *   sent, so an aborted request frees its pool slot at once (source.ts: time limit and abort).
 * - A snapshot's `databaseLsn` is the WAL insert position read in its transaction, and a transaction's `lsn`
 *   is its commit record's LSN: visible commits lie below it, later ones at or above it.
 */
import pg from 'pg'
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication'
import type { WireRow } from '../../core/protocol'
import {
  assertTableUnchanged,
  currentSnapshot,
  currentWalInsertLsn,
  describeTableWith,
  quoteQualified,
  setTextOutputForTransaction,
  snapshotRowsSql,
  TEXT_OUTPUT_SETTINGS,
  type SqlQuery,
} from './describeTable'
import { PgoutputDecoder, type DecodedMessage } from './pgoutputDecoder'
import { PgoutputTransactions } from './pgoutputTransactions'
import { relationSignatureWith } from './relationSchemas'
import { setStatementTimeout } from './statementTimeout'
import { createReplicationObjects, dropReplicationObjects, publishTable } from './replicationObjects'
import type { ChangeSource, SnapshotRequest, SnapshotResult, TableDescription, Transaction } from './source'

/** Options of {@link createPostgresSource}. */
export interface PostgresSourceOptions {
  /** `postgresql://…`; the role needs REPLICATION (or superuser) and ownership of described tables. */
  databaseUrl: string
  /** Slot to create and drop; default `live_shapes_<random>`. */
  slotName?: string
  /** Publication to create and drop; default `live_shapes_<random>`. */
  publicationName?: string
  /** Consecutive failed reconnects before the source gives up; default 5. */
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

/** The replication stream was lost and could not be reopened. */
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
  /** The error the source gave up with once `failed`, else undefined. */
  failure(): ReplicationStreamError | undefined
}

/** Where the replication stream is; `failed` is final. */
export type PostgresSourceState = 'streaming' | 'reconnecting' | 'failed' | 'closed'

/** Startup options so the walsender formats values as Electric's connections do. */
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
  let startLsn: bigint
  try {
    startLsn = await createReplicationObjects(pool, { slotName, publicationName })
  } catch (error) {
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

class PostgresChangeSource implements PostgresSource {
  readonly kind = 'postgres' as const
  readonly slotName: string
  readonly publicationName: string
  readonly #pool: pg.Pool
  readonly #options: PostgresSourceOptions
  readonly #listeners = new Set<(transaction: Transaction) => void>()
  readonly #decoder = new PgoutputDecoder()
  readonly #transactions: PgoutputTransactions
  #service: LogicalReplicationService | undefined
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
    this.#transactions = new PgoutputTransactions(startLsn)
  }

  get state(): PostgresSourceState {
    return this.#state
  }

  failure(): ReplicationStreamError | undefined {
    return this.#failure
  }

  /** Resolves once the first replication connection streams; rejects when it cannot be opened at all. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#running = this.#stream(resolve, reject)
    })
  }

  async describeTable(schema: string, name: string): Promise<TableDescription | undefined> {
    this.#assertUsable()
    const query: SqlQuery = async (sql, params) => (await this.#pool.query(sql, [...params])).rows as Record<string, unknown>[]
    const { schemas } = this.#transactions
    if (!schemas.knows(schema, name)) {
      const signature = await relationSignatureWith(query, schema, name)
      if (signature !== undefined) schemas.know(signature)
    }
    const table = await describeTableWith(query, schema, name)
    if (table === undefined) return undefined
    await publishTable(this.#pool, this.publicationName, table, quoteQualified(table.schema, table.name))
    return table
  }

  async snapshot(request: SnapshotRequest): Promise<SnapshotResult> {
    this.#assertUsable()
    request.signal?.throwIfAborted()
    const client = await this.#pool.connect()
    // an abort cancels the running query from another connection; the client is then destroyed, not pooled,
    // so a late cancel can never reach the next user of the connection.
    let cancelling: Promise<void> | undefined
    const onAbort = (): void => {
      cancelling ??= this.#cancelBackend(client)
    }
    request.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      request.signal?.throwIfAborted()
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const query: SqlQuery = async (sql, params) => (await client.query(sql, [...params])).rows
      await setStatementTimeout(query, request.timeoutMs)
      await setTextOutputForTransaction(query)
      const visibility = await currentSnapshot(query)
      await assertTableUnchanged(query, request.table)
      const lsn = this.#transactions.lsn
      const databaseLsn = await currentWalInsertLsn(query)
      const rows = await client.query<WireRow>(snapshotRowsSql(request.table, request.where, request), [...request.params])
      await client.query('COMMIT')
      return { rows: rows.rows, ...visibility, lsn, databaseLsn }
    } catch (error) {
      if (cancelling === undefined) await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      request.signal?.removeEventListener('abort', onAbort)
      if (cancelling === undefined) client.release()
      else await cancelling.finally(() => client.release(true))
    }
  }

  /** Cancels what `client` runs (`pg_cancel_backend` from a connection of its own: the pool may be exhausted). */
  async #cancelBackend(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: number }).processID
    if (typeof pid !== 'number') return
    const canceller = new pg.Client({ connectionString: this.#options.databaseUrl })
    canceller.on('error', () => undefined)
    try {
      await canceller.connect()
      await canceller.query('SELECT pg_cancel_backend($1)', [pid])
    } catch {
      // The statement timeout still ends the query.
    } finally {
      await canceller.end().catch(() => undefined)
    }
  }

  subscribe(listener: (transaction: Transaction) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  currentLsn(): bigint {
    return this.#transactions.lsn
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#listeners.clear()
    await this.#service?.destroy().catch(() => undefined)
    await this.#running.catch(() => undefined)
    try {
      await dropReplicationObjects(
        this.#pool,
        { slotName: this.slotName, publicationName: this.publicationName },
        this.#options.setTimeout ?? setTimeout,
      )
    } finally {
      await this.#pool.end()
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

  /** Keeps one replication connection open until closed or out of attempts. */
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
      service.on('data', (_lsn: string, message: DecodedMessage) => {
        const transaction = this.#transactions.push(message)
        if (transaction !== undefined) for (const listener of [...this.#listeners]) listener(transaction)
      })
      let failure: unknown
      try {
        // '0/0': the server resumes from the slot's confirmed position; what we already delivered is dropped
        // (pgoutputTransactions.ts: a transaction's `lsn` is its commit LSN).
        await service.subscribe(new TextPgoutputPlugin(this.#decoder, this.publicationName), this.slotName, '0/0')
        failure = new Error('replication stream ended')
      } catch (error) {
        failure = error
      }
      await service.destroy().catch(() => undefined)
      this.#transactions.abandon()
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
