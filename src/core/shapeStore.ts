/**
 * The materialized rows of one shape: atomic batches, immutable snapshots, per-key subscriptions.
 *
 * Invariants:
 * - Two layers. `#published` is what readers see (`getRow`, `getSnapshot`, `getOldValue`); `#pending` holds the
 *   final row (or `undefined` for removed) of every key touched since the last publish, and `#cleared` says whether
 *   a must-refetch discarded everything published beneath it. Applying a message only touches `#pending`.
 * - Publish happens only for a batch holding an `up-to-date`, once, with the state as of the batch's last
 *   `up-to-date` (messages after it stay pending). Nothing is published before the first one. `must-refetch` clears
 *   the pending layer but the published snapshot stays until the next publish, which replaces it whole.
 * - Exposure, not hand-out, forces a copy (see shapeSnapshot.ts): `#exposed` becomes true iff the current
 *   `#published` Map was handed out by iterating a snapshot's `rows`. A publish builds a new Map when `#exposed`,
 *   after a must-refetch, when the published Map is empty (the pending layer becomes the Map), or when the undo
 *   budget (below) is spent; otherwise it mutates `#published` in place in O(changed keys). A Map anyone could have
 *   seen is therefore never mutated.
 * - `version` bumps and listeners run only when a publish changed a row's identity or the first `up-to-date`
 *   arrived. `subscribe` listeners run once per publish; `subscribeKey` listeners only for keys whose row identity
 *   changed. A row whose merged value equals the old one field by field keeps the old object.
 * - `keys` arrays are shared by every snapshot of one membership epoch: the epoch bumps when a publish adds or
 *   removes a key or reorders keys (a refetch). Within an epoch, key order is fixed because an existing key is only
 *   ever overwritten in place (`Map.set` keeps its position). `data`/`keys` are built lazily, at most once each.
 * - A listener that throws is isolated: the others still run, and the error goes to `onListenerError` or is
 *   rethrown in a microtask.
 * - An in-place publish over a handed-out snapshot links it (see shapeSnapshot.ts on stale snapshots) to an
 *   eagerly created snapshot of the new version, so the chain always ends at the current snapshot or at a Map no
 *   longer published.
 *   Undo entries recorded since the chain began are bounded by the Map's size: past that, the publish copies instead
 *   (amortized O(1) per change), which bounds what a forgotten old snapshot can retain to O(n).
 * - Staging. `stage` applies the change messages of a response still being read to the pending layer at once
 *   (so a large snapshot chunk's message objects die young) and records the value each write overwrote (the first
 *   write of a key it added needs no record: see undoLog.ts); `settleStaged(false)` replays those records backwards
 *   and deletes the added keys, which restores the pending layer (and pending old values) exactly, so a response
 *   that fails after staging leaves the store as it was (see errors.ts). Staging never publishes: control messages
 *   are not staged, the stream settles before it applies the response's last part, and `applyBatch`/`reset` refuse
 *   to run while anything is staged.
 * - `log: 'changes_only'`: an `update` is applied only to a key the store holds (a row an insert, a subset page or a
 *   seed brought in, not deleted since), as `@electric-sql/client`'s `Shape` does: the shape starts empty, so the
 *   update of a row no page loaded carries only its primary key and changed columns (replica default), and applying
 *   it would show that partial row. Its txids still count. A `delete` of an unknown key is a no-op in either mode.
 * - Transactions. The txids of applied change messages and the `snapshot-end` messages are pending like rows:
 *   staging undoes them with the rows, a must-refetch drops them, and the publish step of a batch hands the published
 *   ones to the sync observer (txidTracker.ts) before any listener runs, whether or not a row changed.
 */
import { isChangeMessage } from './protocol'
import type { LogMode, Message, Row } from './protocol'
import { Snapshot } from './shapeSnapshot'
import { setLogged, undo, undoLogOf } from './undoLog'
import type { UndoLog } from './undoLog'
import type { SnapshotHost, ShapeSnapshot } from './shapeSnapshot'
import type { TxSnapshot } from './txid'
import type { SyncedTransactions } from './txidTracker'
import { shallow } from './shallow'

export type { ShapeSnapshot } from './shapeSnapshot'

/** Options of `ShapeStore`. */
export interface ShapeStoreOptions {
  /** Clock for `lastSyncedAt` (default `Date.now`). */
  now?: () => number
  /** Receives errors thrown by listeners; by default they are rethrown in a microtask. */
  onListenerError?: (error: unknown) => void
  /** The shape's `log` mode; `changes_only` ignores updates of keys the store does not hold (default `full`). */
  log?: LogMode
}

/** The undo logs of the pending rows and of the pending old values, while staging. */
interface StagingRecord<T> {
  readonly pending: UndoLog<T | undefined>
  readonly old: UndoLog<Partial<T> | undefined>
  /** Length of the pending txid list when staging began. */
  readonly txids: number
}

interface ListenerEntry {
  readonly listener: () => void
}

/**
 * Materialized rows of a shape, fed parsed protocol batches by the stream.
 *
 * @example
 * const store = new ShapeStore<Todo>()
 * const unsubscribe = store.subscribe(() => render(store.getSnapshot().data))
 * store.applyBatch(parser.parseMessages(messages))
 */
export class ShapeStore<T = Row> {
  readonly #now: () => number
  readonly #onListenerError: ((error: unknown) => void) | undefined
  readonly #changesOnly: boolean

  #published = new Map<string, T>()
  #exposed = false
  #snapshot: Snapshot<T> | undefined
  #undoBudgetUsed = 0
  #version = 0
  #publishedUpToDate = false

  #pending = new Map<string, T | undefined>()
  /** False only while no key of `#pending` can hold `undefined`: the initial publish then skips a pass over it. */
  #pendingMayRemove = false
  #cleared = false
  #upToDate = false
  #lastSyncedAt: number | undefined

  #oldValues = new Map<string, Partial<T>>()
  #pendingOld = new Map<string, Partial<T> | undefined>()
  #staging: StagingRecord<T> | undefined
  #txids: number[] = []
  #txSnapshots: TxSnapshot[] = []
  #onSynced: ((synced: SyncedTransactions, notifiedKeys: readonly string[] | undefined) => void) | undefined

  #keysEpoch = 0
  #keysCache: { readonly epoch: number; readonly keys: readonly string[] } | undefined

  readonly #listeners = new Set<ListenerEntry>()
  readonly #keyListeners = new Map<string, Set<ListenerEntry>>()

  constructor(options: ShapeStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#onListenerError = options.onListenerError
    this.#changesOnly = options.log === 'changes_only'
  }

  /** True after an `up-to-date` until the next `must-refetch`/`reset` (the pending state has caught up). */
  get isUpToDate(): boolean {
    return this.#upToDate
  }

  /** `now()` at the last batch that held an `up-to-date`; undefined before the first. Kept across resets. */
  /** True for a `log: 'changes_only'` store, which ignores updates of keys it does not hold. */
  get changesOnly(): boolean {
    return this.#changesOnly
  }

  get lastSyncedAt(): number | undefined {
    return this.#lastSyncedAt
  }

  /** Applies parsed protocol messages atomically; publishes and notifies at most once. */
  applyBatch(messages: readonly Message<T>[]): void {
    if (this.#staging !== undefined) throw new Error('ShapeStore.applyBatch while changes are staged: settle them first')
    let lastUpToDate = -1
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = messages[i] as Message<T>
      if (!isChangeMessage(message) && message.headers.control === 'up-to-date') {
        lastUpToDate = i
        break
      }
    }
    for (let i = 0; i <= lastUpToDate; i++) this.#apply(messages[i] as Message<T>)
    const publication = lastUpToDate >= 0 ? this.#publish() : undefined
    const synced = lastUpToDate >= 0 ? this.#takeSynced() : undefined
    for (let i = lastUpToDate + 1; i < messages.length; i++) this.#apply(messages[i] as Message<T>)
    if (synced) this.#onSynced?.(synced, publication?.changedKeys)
    if (publication) this.#notify(publication)
  }

  /**
   * Applies change messages of a response still being read to the pending layer, undoably. Throws on a control
   * message: those belong to `applyBatch`.
   */
  stage(messages: readonly Message<T>[]): void {
    this.#staging ??= { pending: undoLogOf(this.#pending), old: undoLogOf(this.#pendingOld), txids: this.#txids.length }
    for (const message of messages) {
      if (!isChangeMessage(message)) throw new Error('ShapeStore.stage takes change messages only')
      this.#apply(message)
    }
  }

  /** Ends staging: keeps the staged changes as part of the pending layer, or reverts them exactly. */
  settleStaged(keep: boolean): void {
    const staging = this.#staging
    this.#staging = undefined
    if (staging === undefined || keep) return
    undo(this.#pending, staging.pending)
    undo(this.#pendingOld, staging.old)
    this.#txids.length = staging.txids
  }

  /**
   * Records transactions whose changes were not applied because the rows already hold them (a subset snapshot
   * loaded them, snapshotMerge.ts): pending like any batch's txids, so a write waiting for them is confirmed by the
   * next publish, and dropped with the batch if it is reverted.
   */
  noteTxids(txids: readonly number[]): void {
    for (const txid of txids) if (this.#txids[this.#txids.length - 1] !== txid) this.#txids.push(txid)
  }

  /**
   * Sets the one observer of published transactions: called after the publish step of a batch that published
   * txids or a snapshot, before the listeners; `notifiedKeys` is undefined when no listener will run, else the keys
   * whose key listeners will.
   */
  observeSynced(observer: ((synced: SyncedTransactions, notifiedKeys: readonly string[] | undefined) => void) | undefined): void {
    this.#onSynced = observer
  }

  /** What a `must-refetch` does: drops pending rows and old values; the published snapshot stays. */
  reset(): void {
    if (this.#staging !== undefined) throw new Error('ShapeStore.reset while changes are staged: settle them first')
    this.#pending.clear()
    this.#pendingOld.clear()
    this.#txids = []
    this.#txSnapshots = []
    this.#cleared = true
    this.#upToDate = false
  }

  /** The published snapshot: the same object until the next published change; never allocates after the first call. */
  getSnapshot(): ShapeSnapshot<T> {
    this.#snapshot ??= this.#snapshotOfNow()
    return this.#snapshot
  }

  /** The published row of `key` (O(1)). */
  getRow(key: string): T | undefined {
    return this.#published.get(key)
  }

  /** `old_value` of the last published update of `key` (replica=full); cleared by insert, delete and reset. */
  getOldValue(key: string): Partial<T> | undefined {
    return this.#oldValues.get(key)
  }

  /** Runs `listener` after every publish that changed the snapshot. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    const entry: ListenerEntry = { listener }
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  /** Runs `listener` after a publish that changed the identity of the row of `key` (added, replaced or removed). */
  subscribeKey(key: string, listener: () => void): () => void {
    const entry: ListenerEntry = { listener }
    let set = this.#keyListeners.get(key)
    if (!set) {
      set = new Set()
      this.#keyListeners.set(key, set)
    }
    set.add(entry)
    return () => {
      const current = this.#keyListeners.get(key)
      if (!current?.delete(entry)) return
      if (current.size === 0) this.#keyListeners.delete(key)
    }
  }

  #snapshotOfNow(): Snapshot<T> {
    return new Snapshot(this.#version, this.#published, this.#publishedUpToDate, this.#keysEpoch, this.#host)
  }

  #current(key: string): T | undefined {
    const pending = this.#pending.get(key)
    // Absent and removed-while-pending both read as undefined when nothing published shows through (initial sync).
    if (pending !== undefined || this.#cleared || this.#published.size === 0 || this.#pending.has(key)) return pending
    return this.#published.get(key)
  }

  #apply(message: Message<T>): void {
    if (!isChangeMessage(message)) {
      if (message.headers.control === 'up-to-date') this.#upToDate = true
      else if (message.headers.control === 'must-refetch') this.reset()
      else if (message.headers.control === 'snapshot-end') this.#txSnapshots.push(message.headers)
      return
    }
    const txids = message.headers.txids
    if (txids !== undefined) this.noteTxids(txids)
    const { key, value } = message
    // Initial sync: nothing published shows through and no pending row has been seen by anyone, so an insert
    // needs no lookup (keeping the identity of an equal pending row is unobservable).
    if (message.headers.operation === 'insert' && this.#published.size === 0 && !this.#cleared) {
      this.#setPending(key, value)
      this.#forgetOldValue(key)
      return
    }
    const existing = this.#current(key)
    switch (message.headers.operation) {
      case 'insert':
        this.#setPending(key, existing !== undefined && shallow(existing, value) ? existing : value)
        this.#forgetOldValue(key)
        break
      case 'update': {
        if (existing === undefined && this.#changesOnly) break
        // Merging changes nothing iff every field the update carries is already there with the same value: keep the
        // old object, so its identity (what listeners and `version` follow) does not change.
        const merged = existing === undefined ? value : carriesNoChange(existing, value) ? existing : ({ ...existing, ...value } as T)
        this.#setPending(key, merged)
        this.#setPendingOld(key, message.old_value)
        break
      }
      case 'delete':
        this.#setPending(key, undefined)
        this.#forgetOldValue(key)
        break
    }
  }

  /** Without any old value around, an insert or delete has none to forget: skip the per-row Map write. */
  #forgetOldValue(key: string): void {
    if (this.#oldValues.size > 0 || this.#pendingOld.size > 0) this.#setPendingOld(key, undefined)
  }

  #setPending(key: string, row: T | undefined): void {
    if (row === undefined) this.#pendingMayRemove = true
    setLogged(this.#pending, key, row, this.#staging?.pending)
  }

  #setPendingOld(key: string, old: Partial<T> | undefined): void {
    setLogged(this.#pendingOld, key, old, this.#staging?.old)
  }

  /** Moves the pending layer into the published state; returns what changed, or undefined if nothing did. */
  #publish(): { changedKeys: readonly string[] } | undefined {
    this.#lastSyncedAt = this.#now()
    const previous = this.#published
    const pending = this.#pending
    let changedKeys: string[] = []
    let next = previous
    let membershipChanged = false
    let link: { undo: Map<string, T | undefined>; order: readonly string[] | undefined } | undefined
    if (this.#cleared) {
      next = new Map()
      for (const [key, row] of pending) {
        if (row === undefined) continue
        const old = previous.get(key)
        const kept = old !== undefined && shallow(old, row) ? old : row
        next.set(key, kept)
        if (kept !== old) changedKeys.push(key)
      }
      for (const key of previous.keys()) if (!next.has(key)) changedKeys.push(key)
      membershipChanged = !sameKeyOrder(previous, next)
      if (changedKeys.length === 0 && !membershipChanged) next = previous
      this.#oldValues.clear()
      pending.clear()
    } else if (previous.size === 0) {
      // Typically the initial sync: the pending layer becomes the published Map instead of being copied into it.
      if (this.#pendingMayRemove) for (const [key, row] of pending) if (row === undefined) pending.delete(key)
      if (pending.size > 0) {
        next = pending as Map<string, T>
        this.#pending = new Map()
        membershipChanged = true
        changedKeys = this.#keyListeners.size === 0 ? [] : Array.from(this.#keyListeners.keys()).filter((key) => next.has(key))
      } else {
        pending.clear()
      }
    } else {
      let removes = false
      for (const [key, row] of pending) {
        const old = previous.get(key)
        if (row === old) continue
        changedKeys.push(key)
        if ((row === undefined) !== (old === undefined)) {
          membershipChanged = true
          if (row === undefined) removes = true
        }
      }
      if (changedKeys.length > 0) {
        const snapshot = this.#snapshot
        const copy =
          this.#exposed || (snapshot !== undefined && this.#undoBudgetUsed + changedKeys.length > previous.size)
        if (copy) {
          next = new Map(previous)
        } else if (snapshot !== undefined) {
          const undo = new Map<string, T | undefined>()
          for (const key of changedKeys) undo.set(key, previous.get(key))
          link = { undo, order: removes ? this.#keysFor(this.#keysEpoch, () => previous) : undefined }
          this.#undoBudgetUsed += changedKeys.length
        }
        for (const key of changedKeys) {
          const row = pending.get(key)
          if (row === undefined) next.delete(key)
          else next.set(key, row)
        }
      }
      pending.clear()
    }
    for (const [key, old] of this.#pendingOld) {
      if (old === undefined) this.#oldValues.delete(key)
      else this.#oldValues.set(key, old)
    }
    this.#pendingOld.clear()
    this.#pendingMayRemove = false
    this.#cleared = false

    const firstUpToDate = !this.#publishedUpToDate
    if (next === previous && changedKeys.length === 0 && !firstUpToDate) return undefined
    if (next !== previous) {
      this.#published = next
      this.#exposed = false
    }
    if (membershipChanged) this.#keysEpoch++
    this.#publishedUpToDate = true
    this.#version++
    const retired = this.#snapshot
    if (link !== undefined && retired !== undefined) {
      this.#snapshot = this.#snapshotOfNow()
      retired.link({ ...link, next: this.#snapshot })
    } else {
      this.#snapshot = undefined
      this.#undoBudgetUsed = 0
    }
    return { changedKeys }
  }

  #takeSynced(): SyncedTransactions | undefined {
    if (this.#txids.length === 0 && this.#txSnapshots.length === 0) return undefined
    const synced = { txids: this.#txids, snapshots: this.#txSnapshots }
    this.#txids = []
    this.#txSnapshots = []
    return synced
  }

  #notify({ changedKeys }: { changedKeys: readonly string[] }): void {
    for (const entry of Array.from(this.#listeners)) this.#call(entry)
    if (this.#keyListeners.size === 0) return
    for (const key of changedKeys) {
      const set = this.#keyListeners.get(key)
      if (set) for (const entry of Array.from(set)) this.#call(entry)
    }
  }

  #call(entry: ListenerEntry): void {
    try {
      entry.listener()
    } catch (error) {
      const report = this.#onListenerError
      if (report) report(error)
      else
        queueMicrotask(() => {
          throw error
        })
    }
  }

  /** Keys of one membership epoch, shared by its snapshots; cached only for the current epoch. */
  #keysFor(epoch: number, rows: () => ReadonlyMap<string, unknown>): readonly string[] {
    if (this.#keysCache?.epoch === epoch) return this.#keysCache.keys
    const keys = Object.freeze(Array.from(rows().keys()))
    if (epoch === this.#keysEpoch) this.#keysCache = { epoch, keys }
    return keys
  }

  readonly #host: SnapshotHost = {
    expose: (map) => {
      if (map === this.#published) this.#exposed = true
    },
    keysFor: (epoch, rows) => this.#keysFor(epoch, rows),
  }
}

function sameKeyOrder(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false
  const other = b.keys()
  for (const key of a.keys()) if (other.next().value !== key) return false
  return true
}

/** True when every own field of `update` exists on `row` with an `Object.is`-equal value. */
function carriesNoChange(row: unknown, update: unknown): boolean {
  if (typeof row !== 'object' || typeof update !== 'object' || row === null || update === null) return false
  for (const key of Object.keys(update)) {
    if (!Object.hasOwn(row, key) || !Object.is((row as Record<string, unknown>)[key], (update as Record<string, unknown>)[key])) {
      return false
    }
  }
  return true
}
