/**
 * One shared shape: a store, the stream that fills it, and the reference count that keeps the stream open.
 *
 * Invariants:
 * - The stream runs only while retained: the first `retain()` starts it; the last release schedules `close()`
 *   after `gracePeriodMs`; a retain during the grace period cancels that close (StrictMode, quick remounts).
 * - `close()` stops the stream (no request, timer or listener left) and tells the owner, which evicts the
 *   shape; a later `retain()` on a closed shape reopens it through the owner again.
 * - A release function works once; calling it again does nothing (double cleanup cannot close a shape in use).
 * - `getHydrationState` returns rows and position only when they agree: the stream caught up, not in a catch-up
 *   or refetch, and the store published an up-to-date snapshot (every live batch ends with `up-to-date`, so the
 *   published rows are exactly the rows as of the stream's offset).
 * - `hydrate` seeds only a stopped shape, and only when it holds nothing up to date or older data (same handle:
 *   a smaller offset; another handle: an older `lastSyncedAt`). A running stream is never rewound or skipped ahead.
 * - A shape nobody retains (a render React abandoned, a hydrated shape no component used) closes after
 *   `unusedTimeoutMs` from its creation or its last hydration, so the registry cannot grow without bound. Its close
 *   timers hold it weakly: a shape its client no longer holds (a server render's client, dropped with the response)
 *   is collected without waiting for them.
 * - A persisted shape (`ShapePersistence`) starts its stream only once the stored entry was read, so the stored rows
 *   are published and the first request resumes from their position; its status carries the persistence fields.
 * - Readers (`subscribe`, `getSnapshot`, `getRow`, `subscribeKey`) see synced rows with pending optimistic writes laid
 *   over them (optimisticOverlay.ts); hydration state is synced rows only, never an unconfirmed write.
 * - A `hydrate` while the persistence seeds the stored entry keeps what the shape showed before as its server view;
 *   any other successful `hydrate` (a server's rows) makes the shape as it was right after that seed its server view
 *   (shapeView.ts).
 */
import type { Clock, TimerHandle } from './clock'
import type { Message, Row, Schema } from './protocol'
import type { ShapeOptions } from './shapeOptions'
import type { ShapeSnapshot, ShapeStore } from './shapeStore'
import type { ShapeStatus } from './shapeStatus'
import type { ShapeStream } from './shapeStream'
import { compareOffsets } from './offset'
import { OptimisticOverlay } from './optimisticOverlay'
import type { MutateOptions, MutationResult } from './mutationDraft'
import { primaryKeyOf, RowKeyError, rowKeyOf, tablePrefix } from './rowKey'
import type { Txid } from './txid'
import type { WhenTxidOptions } from './txidTracker'
import { InvalidOptionsError } from './errors'
import type { ShapeSubsets } from './shapeSubsets'
import type { SubsetSnapshot, SubsetSnapshotRequest } from './subsetSnapshot'
import { frozenView, SERVER_VIEW } from './shapeView'
import { RETARGET, retarget } from './functionForwarders'
import type { Forwarders } from './functionForwarders'
import type { ShapeView } from './shapeView'

/** How a `Shape` is wired; built by `ShapeClient`. */
export interface ShapeInit<T> {
  /** The shape definition's identity (`shapeKey`), not a row key. */
  definitionKey: string
  options: ShapeOptions<T>
  store: ShapeStore<T>
  stream: ShapeStream<T>
  clock: Clock
  gracePeriodMs: number
  /** How long a shape that was never retained stays registered. */
  unusedTimeoutMs: number
  /** Called after the shape closed. */
  onClose: (shape: Shape<T>) => void
  /** Called when a closed shape is retained again. */
  onReopen: (shape: Shape<T>) => void
  /** Persisted storage of this shape (src/core/persist), when the client persists. */
  persistence?: ShapePersistence | undefined
  /** Loads the subset snapshot loader of this shape (`requestSnapshot`), once; absent, `requestSnapshot` throws. */
  loadSubsets?: (() => Promise<ShapeSubsets<T>>) | undefined
  /** The forwarders in the function places of `options` (functionForwarders.ts). */
  forwarders?: Forwarders | undefined
}

/**
 * What persistence adds to a shape (built by src/core/persist/persistedShape.ts).
 * @example
 * const persistence: ShapePersistence = { pending: undefined, seeding: false, decorate: (s) => s, subscribe: () => () => {}, closed() {} }
 */
export interface ShapePersistence {
  /** Set while the stored entry is being read: the stream starts only after it settles. */
  readonly pending: Promise<void> | undefined
  /** True while the stored entry seeds the shape (its `hydrate` call). */
  readonly seeding: boolean
  /** The status with `source`, `cacheAgeMs` and `warning`; the same object for the same input and facts. */
  decorate(status: ShapeStatus): ShapeStatus
  /** Calls `listener` when those fields change. */
  subscribe(listener: () => void): () => void
  /** The shape closed: write what the throttle holds and clear timers. */
  closed(): void
}

/**
 * An up-to-date shape's rows and the stream position they are as of: what `dehydrate` saves and `hydrate` restores.
 * @example
 * const state = shape.getHydrationState() // { handle, offset, cursor, schema, lastSyncedAt, rows } or undefined
 */
export interface ShapeHydrationState<T> {
  readonly handle: string
  readonly offset: string
  readonly cursor: string | undefined
  readonly schema: Schema | undefined
  readonly lastSyncedAt: number | undefined
  readonly rows: ReadonlyMap<string, T>
}

const UP_TO_DATE: Message<never> = { headers: { control: 'up-to-date' } }

/**
 * A live shape shared by every subscriber with the same definition.
 * @example
 * const shape = client.shape({ url, params: { table: 'items' } })
 * const release = shape.retain()
 * await shape.whenUpToDate()
 * shape.getSnapshot().data
 * release()
 */
export class Shape<T = Row> {
  /**
   * The identity of this shape's definition (from `shapeKey`), under which its client registers it; not a row key
   * (those are `rowKey(row)`).
   */
  readonly definitionKey: string
  /**
   * The options the shape was created with (the first subscriber's `onError` and `backoff` among them); their
   * header, param, `parser`, `columnMapper`, `transformer` and `fetchClient` functions are forwarders to the latest
   * functions the hooks were given (functionForwarders.ts).
   */
  readonly options: ShapeOptions<T>
  readonly #store: ShapeStore<T>
  readonly #stream: ShapeStream<T>
  readonly #clock: Clock
  readonly #gracePeriodMs: number
  readonly #unusedTimeoutMs: number
  readonly #onClose: (shape: Shape<T>) => void
  readonly #onReopen: (shape: Shape<T>) => void
  readonly #persistence: ShapePersistence | undefined
  readonly #loadSubsets: (() => Promise<ShapeSubsets<T>>) | undefined
  #subsets: Promise<ShapeSubsets<T>> | undefined
  #refCount = 0
  #closeTimer: { handle: TimerHandle } | undefined
  #closed = false
  readonly #overlay: OptimisticOverlay<T>
  #primaryKey: readonly string[] | undefined
  /** What a server render of this shape showed, when that is not the shape itself (shapeView.ts). */
  #serverView: ShapeView<T> | undefined
  readonly #forwarders: Forwarders | undefined

  constructor(init: ShapeInit<T>) {
    this.definitionKey = init.definitionKey
    this.options = init.options
    this.#forwarders = init.forwarders
    this.#store = init.store
    this.#stream = init.stream
    this.#clock = init.clock
    this.#gracePeriodMs = init.gracePeriodMs
    this.#unusedTimeoutMs = init.unusedTimeoutMs
    this.#onClose = init.onClose
    this.#onReopen = init.onReopen
    this.#persistence = init.persistence
    this.#overlay = new OptimisticOverlay<T>({
      store: init.store,
      clock: init.clock,
      keyOf: (row) => this.rowKey(row),
      checkKey: (key) => {
        const prefix = `${tablePrefix(this.options.params.table)}/`
        if (!key.startsWith(prefix)) throw new RowKeyError(`${JSON.stringify(key)} is not a row key of ${prefix.slice(0, -1)}: build keys with shape.rowKey(row)`)
      },
      // A pending write keeps the shape open and its stream running on a hidden page, until it settles.
      retain: () => {
        const release = this.retain()
        const awake = this.#stream.holdAwake()
        return () => {
          awake()
          release()
        }
      },
    })
    this.#loadSubsets = init.loadSubsets
    this.#scheduleClose(init.unusedTimeoutMs)
  }

  /** How many retains are outstanding. */
  get refCount(): number {
    return this.#refCount
  }

  /** True after `close()` until the next `retain()`. */
  get isClosed(): boolean {
    return this.#closed
  }

  /**
   * Retries at once instead of waiting out the backoff, or restarts a stream stopped by its error (see
   * `ShapeStream.retryNow`). Returns false when there was nothing to retry.
   * @example
   * <button onClick={() => shape.retryNow()}>Retry now</button>
   */
  retryNow(): boolean {
    return this.#stream.retryNow()
  }

  /** Keeps the stream open until the returned release is called. */
  retain(): () => void {
    if (this.#closed) {
      this.#onReopen(this)
      this.#closed = false
    }
    this.#cancelClose()
    this.#refCount += 1
    if (this.#refCount === 1) this.#start()
    let released = false
    return () => {
      if (released) return
      released = true
      this.#release()
    }
  }

  /** Stops the stream now, whatever the reference count (client disposal, tests). */
  close(): void {
    this.#cancelClose()
    if (this.#closed) return
    // First, while the shape is still open: ending pending writes releases their holds on it.
    this.#overlay.close()
    this.#cancelClose()
    if (this.#closed) return
    this.#closed = true
    this.#refCount = 0
    this.#stream.stop()
    this.#persistence?.closed()
    this.#onClose(this)
  }

  /** Calls `listener` after each published change of the rows (at most once per batch). */
  subscribe(listener: () => void): () => void {
    return this.#overlay.subscribe(listener)
  }

  /** The published rows (with pending optimistic writes over them); the same object until the next change. */
  getSnapshot(): ShapeSnapshot<T> {
    return this.#overlay.getSnapshot()
  }

  /**
   * The published rows as the server confirmed them, without pending optimistic writes; the same object until the
   * next synced change (persistence and hydration store this, never an unconfirmed write).
   * @example
   * const confirmed = shape.getSyncedSnapshot().rows.get(key)
   */
  getSyncedSnapshot(): ShapeSnapshot<T> {
    return this.#store.getSnapshot()
  }

  /** One published row by its shape key (its optimistic value while a write to it is pending). */
  getRow(key: string): T | undefined {
    return this.#overlay.getRow(key)
  }

  /** True while a pending optimistic write touches the row of `key`. */
  isPending(key: string): boolean {
    return this.#overlay.isPending(key)
  }

  /**
   * The shape key of `row` (an object carrying the primary-key fields, by their application names), built exactly
   * as the server builds it. The primary key is the `primaryKey` option, else the one `electric-schema` announced
   * (known from the first response on); before either, it throws `RowKeyError`.
   * @example
   * shape.rowKey({ id: 1 }) // '"public"."items"/"1"'
   */
  rowKey(row: object): string {
    const primaryKey = this.#primaryKeyNow()
    if (primaryKey === undefined) {
      throw new RowKeyError(
        `The primary key of ${tablePrefix(this.options.params.table)} is not known yet: pass the shape option primaryKey, or wait for shape.whenUpToDate()`,
      )
    }
    return rowKeyOf(row, { table: this.options.params.table, primaryKey, ...(this.options.columnMapper ? { columnMapper: this.options.columnMapper } : {}) })
  }

  /**
   * Resolves once a change of the Postgres transaction `txid` (or of each of several) has been applied and published
   * by this shape; at once when it was seen recently (the last 1024 txids) or is in the shape's last snapshot.
   * Rejects with `TxidTimeoutError` after `timeoutMs` (default 30 s) or when `signal` aborts. A transaction that
   * touches no row of this shape never shows up. Pass `pg_current_xact_id()::xid` (number, bigint or decimal text).
   * It does not open the stream: retain the shape (a mounted hook does).
   * @example
   * const { txid } = await api.addTodo(todo)
   * await shape.whenTxid(txid, { timeoutMs: 10_000 })
   */
  whenTxid(txid: Txid | readonly Txid[], options?: WhenTxidOptions): Promise<void> {
    return this.#overlay.whenTxid(txid, options)
  }

  /**
   * An optimistic write: `apply(draft)` shows rows at once (the very next snapshot), `commit()` does the real write
   * and resolves to `{ txid }`. Resolves when the stream confirms the txid(s), dropping the optimistic rows in the
   * same publish that shows the synced ones; rolls them back in one publish and rejects with the commit's error or
   * `TxidTimeoutError` otherwise. Keeps the shape retained while pending.
   * @example
   * await shape.mutate({
   *   apply: (draft) => draft.update({ id: 1, done: true }),
   *   commit: () => fetch('/api/toggle/1', { method: 'POST' }).then((r) => r.json()), // → { txid }
   * })
   */
  mutate(options: MutateOptions<T>): Promise<MutationResult> {
    return this.#overlay.mutate(options)
  }

  /** `replica=full`: the previous values of the row's last update. */
  getOldValue(key: string): Partial<T> | undefined {
    return this.#store.getOldValue(key)
  }

  /** Calls `listener` only when the row under `key` changes identity. */
  subscribeKey(key: string, listener: () => void): () => void {
    return this.#overlay.subscribeKey(key, listener)
  }

  /** The connection status (`idle` while not retained); the same object until a field changes. */
  getStatus(): ShapeStatus {
    const status = this.#stream.getStatus()
    return this.#persistence ? this.#persistence.decorate(status) : status
  }

  /** Calls `listener` after each status change. */
  subscribeStatus(listener: () => void): () => void {
    const off = this.#stream.subscribeStatus(listener)
    if (!this.#persistence) return off
    const offPersistence = this.#persistence.subscribe(listener)
    return () => {
      off()
      offPersistence()
    }
  }

  /** Resolves at the first up-to-date; rejects on an error the stream stopped on, or when the shape closes first. */
  whenUpToDate(): Promise<void> {
    if (this.#closed) return Promise.reject(new DOMException('The shape was closed', 'AbortError'))
    return this.#stream.whenUpToDate()
  }

  /**
   * Loads a page of rows into this shape (typically a `log: 'changes_only'` one) with a subset snapshot: the rows
   * of the shape that also match `where`, in `orderBy` order, `offset` then `limit`. Holds the stream while loading;
   * resolves with the page once its rows are published in the shape. Later live changes the page already holds are
   * dropped (snapshotSink.ts). Rejects with the request's typed error (`ShapeRequestError` for a bad subset).
   * @example
   * const shape = client.shape<Todo>({ url, params: { table: 'todos' }, log: 'changes_only' })
   * const { data } = await shape.requestSnapshot({ where: 'done = false', orderBy: 'id', limit: 20 })
   */
  async requestSnapshot(subset: SubsetSnapshotRequest, control: { signal?: AbortSignal } = {}): Promise<SubsetSnapshot<T>> {
    if (this.#loadSubsets === undefined) throw new InvalidOptionsError('This shape cannot load subset snapshots')
    const release = this.retain()
    try {
      // A failed load is not kept: the next call tries again.
      this.#subsets ??= this.#loadSubsets().catch((error: unknown) => {
        this.#subsets = undefined
        throw error
      })
      return await (await this.#subsets).request(this, subset, control.signal)
    } finally {
      release()
    }
  }

  /** The rows and the position they are as of, when they agree; `undefined` otherwise. */
  getHydrationState(): ShapeHydrationState<T> | undefined {
    const state = this.#stream.getState()
    const snapshot = this.#store.getSnapshot()
    if (!state.upToDateSinceReset || state.nextRequestCatchesUp || state.refetching || state.handle === undefined || !snapshot.isUpToDate) {
      return undefined
    }
    return {
      handle: state.handle,
      offset: state.offset,
      cursor: state.cursor,
      schema: state.schema,
      lastSyncedAt: state.lastSyncedAt,
      rows: snapshot.rows,
    }
  }

  /**
   * Seeds a stopped shape with rows as of a position, so it reads up to date at once and its first request is the
   * live one from that position. Returns false, changing nothing, when the shape runs or holds newer data.
   */
  hydrate(state: ShapeHydrationState<T>): boolean {
    if (this.#stream.getState().phase !== 'stopped') return false
    const current = this.getHydrationState()
    if (current !== undefined && !isOlder(current, state)) return false
    const { rows, ...position } = state
    const before = this.#persistence?.seeding ? frozenView(this.getSnapshot(), this.getStatus()) : undefined
    if (!this.#stream.restartFrom({ ...position, upToDateSinceReset: true, resumeLive: true })) return false
    const messages: Message<T>[] = []
    for (const [key, value] of rows) messages.push({ key, value, headers: { operation: 'insert' } })
    messages.push(UP_TO_DATE)
    // `reset` first: the seed replaces whatever was published, it does not merge into it.
    this.#store.reset()
    this.#store.applyBatch(messages)
    this.#serverView = before ?? frozenView(this.getSnapshot(), this.getStatus())
    if (this.#refCount === 0) this.#scheduleClose(this.#unusedTimeoutMs)
    return true
  }

  /** Internal (src/core/internal.ts): what a server render of this shape showed (shapeView.ts). */
  [SERVER_VIEW](): ShapeView<T> {
    return this.#serverView ?? this
  }

  /**
   * Internal (src/core/internal.ts): points the forwarders of the function-valued options at those of `options`, a
   * later render's options that describe this shape (functionForwarders.ts).
   */
  [RETARGET](options: ShapeOptions<T>): void {
    if (this.#forwarders !== undefined) retarget(this.#forwarders, options)
  }

  /** Starts the stream, after the stored entry of a persisted shape was read. */
  #start(): void {
    const pending = this.#persistence?.pending
    if (pending === undefined) {
      this.#stream.start()
      return
    }
    void pending.then(() => {
      if (!this.#closed && this.#refCount > 0) this.#stream.start()
    })
  }

  /** The `primaryKey` option, else the schema's, remembered across a refetch (which drops the schema for a while). */
  #primaryKeyNow(): readonly string[] | undefined {
    if (this.options.primaryKey !== undefined) return this.options.primaryKey
    const schema = this.#stream.getState().schema
    if (schema !== undefined) {
      const fromSchema = primaryKeyOf(schema)
      if (fromSchema.length > 0) this.#primaryKey = fromSchema
    }
    return this.#primaryKey
  }

  #release(): void {
    this.#refCount -= 1
    if (this.#refCount > 0 || this.#closed) return
    this.#scheduleClose(this.#gracePeriodMs)
  }

  /** Closes after `delayMs` unless retained first; replaces any pending close. */
  #scheduleClose(delayMs: number): void {
    this.#cancelClose()
    if (delayMs <= 0) {
      this.close()
      return
    }
    // The timer holds the shape weakly: a shape nothing else holds (the per-request client of a server render,
    // dropped with the response) is garbage at once, not kept with its rows until the timer fires.
    const shape = new WeakRef<Shape<T>>(this)
    const timer: { handle: TimerHandle } = {
      handle: this.#clock.setTimeout(() => {
        const alive = shape.deref()
        if (alive !== undefined) alive.#closeOnTimer(timer)
      }, delayMs),
    }
    this.#closeTimer = timer
  }

  #closeOnTimer(timer: { handle: TimerHandle }): void {
    if (this.#closeTimer === timer) this.#closeTimer = undefined
    this.close()
  }

  #cancelClose(): void {
    if (this.#closeTimer === undefined) return
    this.#clock.clearTimeout(this.#closeTimer.handle)
    this.#closeTimer = undefined
  }
}

function isOlder(current: ShapeHydrationState<unknown>, incoming: ShapeHydrationState<unknown>): boolean {
  if (current.handle === incoming.handle) return compareOffsets(current.offset, incoming.offset) < 0
  return (current.lastSyncedAt ?? -Infinity) < (incoming.lastSyncedAt ?? -Infinity)
}
