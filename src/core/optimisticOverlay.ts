/**
 * The optimistic layer of one shape: writes shown at once over the synced rows, kept until the stream confirms them
 * (by the txids of their transaction) and rolled back when they fail.
 *
 * Invariants:
 * - Readers see synced rows with the pending mutations folded over them in the order `mutate` was called: `insert`
 *   sets the row, `update` merges its fields over the row as the store merges a protocol update (an update of a
 *   missing row is an upsert of what it carries, except in a `changes_only` shape, whose store ignores it: showing
 *   that partial row would only make it vanish when the write is confirmed), `delete` removes it. The fold is redone over the new synced rows after every store
 *   publish, so a must-refetch's new rows get the pending writes laid over them again.
 * - Every overlay change is one publish: a new snapshot, each `subscribe` listener once, and `subscribeKey` listeners
 *   of exactly the keys the change touched, each once (a confirming batch's own notification of a key counts). A
 *   mutation confirmed by a batch is dropped inside that batch's publish (the store reports the batch's txids
 *   before its listeners run), so no listener ever sees the row go back to its old value; a confirmation that needs
 *   no store publish (the txid arrived before `commit` returned it, or a batch changed no row) is its own single
 *   publish.
 * - A mutation ends exactly once: confirmed (every txid seen), or rolled back in one publish and rejected with the
 *   commit's error, `TxidTimeoutError` (timeout or abort while waiting for txids) or the abort reason (abort while
 *   `commit` runs). `apply` throwing, or naming a row whose key cannot be built, leaves nothing behind.
 * - `mutate` options it cannot run (not an object, `apply` or `commit` not a function, a `timeoutMs` that is not a
 *   number ≥ 0) reject with `InvalidOptionsError` before `apply` runs, so nothing is published.
 * - A pending mutation keeps the shape retained, so the stream that confirms it stays open. Closing the shape
 *   (`close()`, client disposal) rolls pending mutations back and rejects them and every `whenTxid` wait.
 * - Once the overlay has published, snapshots are overlay snapshots whose `version` is the synced version plus the
 *   number of overlay publishes, so versions still only grow.
 */
import type { Clock, TimerHandle } from './clock'
import { abortReason } from './clock'
import { invalidOption } from './errors'
import { OverlaySnapshot } from './overlaySnapshot'
import type { ShapeSnapshot } from './shapeSnapshot'
import type { ShapeStore } from './shapeStore'
import { TxidTimeoutError, txidsOfCommit } from './txid'
import type { Txid } from './txid'
import { draftOf } from './mutationDraft'
import type { CommitResult, MutateOptions, MutationResult, Op } from './mutationDraft'
import { DEFAULT_TXID_TIMEOUT_MS, TxidTracker } from './txidTracker'
import type { SyncedTransactions, WhenTxidOptions } from './txidTracker'

interface Mutation<T> {
  readonly ops: readonly Op<T>[]
  readonly keys: ReadonlySet<string>
  /** Txids still unseen; undefined while `commit` runs. */
  waiting: Set<string> | undefined
  txids: readonly string[]
  readonly timeoutMs: number
  ended: boolean
  end: (error?: unknown) => void
}

/** How the overlay reaches its shape. */
export interface OverlayInit<T> {
  store: ShapeStore<T>
  clock: Clock
  /** The shape key of a row carrying its primary key (throws `RowKeyError`). */
  keyOf: (row: object) => string
  /** Throws `RowKeyError` when `key` cannot be a key of this shape. */
  checkKey: (key: string) => void
  /** Keeps the shape's stream open until the returned function is called. */
  retain: () => () => void
}

/** The optimistic layer and txid record of one shape (see the file's invariants); `Shape` delegates to it. */
export class OptimisticOverlay<T> {
  readonly #init: OverlayInit<T>
  readonly #tracker: TxidTracker
  #mutations: Mutation<T>[] = []
  #visible: Map<string, T | undefined> = new Map()
  #pending: ReadonlySet<string> = new Set()
  #base: ShapeSnapshot<T> | undefined
  #snapshot: ShapeSnapshot<T> | undefined
  #publishes = 0
  /** Keys whose overlay a confirming batch changed, notified with that batch's listeners. */
  #deferred: Set<string> | undefined
  #keysCache: { base: readonly string[]; signature: string; keys: readonly string[] } | undefined
  readonly #listeners = new Set<() => void>()
  readonly #keyListeners = new Map<string, Set<() => void>>()

  constructor(init: OverlayInit<T>) {
    this.#init = init
    this.#tracker = new TxidTracker(init.clock)
    init.store.observeSynced((synced, notifiedKeys) => this.#onSynced(synced, notifiedKeys))
    init.store.subscribe(() => this.#onStorePublish())
  }

  getSnapshot(): ShapeSnapshot<T> {
    const base = this.#init.store.getSnapshot()
    if (this.#publishes === 0) return base
    if (base !== this.#base) this.#refold(base)
    this.#snapshot ??= new OverlaySnapshot({
      version: base.version + this.#publishes,
      base,
      visible: this.#visible,
      pending: this.#pending,
      keysFor: (baseKeys, inserted, deleted) => this.#keysFor(baseKeys, inserted, deleted),
    })
    return this.#snapshot
  }

  getRow(key: string): T | undefined {
    if (this.#mutations.length === 0) return this.#init.store.getRow(key)
    const base = this.#init.store.getSnapshot()
    if (base !== this.#base) this.#refold(base)
    return this.#visible.has(key) ? this.#visible.get(key) : this.#init.store.getRow(key)
  }

  isPending(key: string): boolean {
    return this.#pending.has(key)
  }

  subscribe(listener: () => void): () => void {
    const entry = (): void => listener()
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  subscribeKey(key: string, listener: () => void): () => void {
    const entry = (): void => listener()
    let set = this.#keyListeners.get(key)
    if (set === undefined) {
      set = new Set()
      this.#keyListeners.set(key, set)
    }
    set.add(entry)
    const unsubscribeStore = this.#init.store.subscribeKey(key, listener)
    return () => {
      unsubscribeStore()
      const current = this.#keyListeners.get(key)
      if (!current?.delete(entry)) return
      if (current.size === 0) this.#keyListeners.delete(key)
    }
  }

  whenTxid(txid: Txid | readonly Txid[], options?: WhenTxidOptions): Promise<void> {
    return this.#tracker.wait(Array.isArray(txid) ? txid : [txid as Txid], options)
  }

  mutate(options: MutateOptions<T>): Promise<MutationResult> {
    const ops: Op<T>[] = []
    try {
      checkMutateOptions(options)
      options.apply(draftOf(ops, this.#init.keyOf, this.#init.checkKey))
    } catch (error) {
      return Promise.reject(error)
    }
    const { signal } = options
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    const timeoutMs = options.timeoutMs ?? DEFAULT_TXID_TIMEOUT_MS
    return new Promise<MutationResult>((resolve, reject) => {
      let timer: TimerHandle | undefined
      const release = this.#init.retain()
      const onAbort = (): void => {
        if (mutation.waiting === undefined) mutation.end(abortReason(signal as AbortSignal))
        else mutation.end(new TxidTimeoutError({ txids: [...mutation.waiting], timeoutMs, reason: 'aborted', cause: signal?.reason }))
      }
      const mutation: Mutation<T> = {
        ops,
        keys: new Set(ops.map((op) => op.key)),
        waiting: undefined,
        txids: [],
        timeoutMs,
        ended: false,
        end: (error) => {
          if (mutation.ended) return
          mutation.ended = true
          if (timer !== undefined) this.#init.clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          // A confirming batch has already taken the mutation out (and publishes it); any other ending publishes here.
          if (this.#mutations.includes(mutation)) this.#remove([mutation])
          release()
          if (error === undefined) resolve({ txids: mutation.txids })
          else reject(error)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#mutations.push(mutation)
      this.#change(mutation.keys)
      let committed: Promise<CommitResult | Txid>
      try {
        committed = Promise.resolve(options.commit())
      } catch (error) {
        committed = Promise.reject(error)
      }
      committed.then(
        (result) => {
          if (mutation.ended) return
          let txids: string[]
          try {
            txids = txidsOfCommit(result)
          } catch (error) {
            mutation.end(error)
            return
          }
          mutation.txids = txids
          mutation.waiting = new Set(txids.filter((txid) => !this.#tracker.has(txid)))
          if (mutation.waiting.size === 0) {
            mutation.end()
            return
          }
          const waiting = mutation.waiting
          timer = this.#init.clock.setTimeout(
            () => mutation.end(new TxidTimeoutError({ txids: [...waiting], timeoutMs, reason: 'timeout' })),
            timeoutMs,
          )
        },
        (error: unknown) => mutation.end(error),
      )
    })
  }

  /**
   * The shape closed: no stream will confirm anything. Waiters reject and pending writes roll back (one publish),
   * both with `TxidTimeoutError` (`reason: 'aborted'`), so no timer outlives the shape.
   */
  close(): void {
    const cause = new DOMException('The shape was closed', 'AbortError')
    this.#tracker.abortAll(cause)
    const pending = this.#mutations
    if (pending.length === 0) return
    this.#remove(pending)
    for (const mutation of pending) {
      mutation.end(new TxidTimeoutError({ txids: mutation.waiting ? [...mutation.waiting] : [], timeoutMs: mutation.timeoutMs, reason: 'aborted', cause }))
    }
  }

  /** Called by the store after a publish step that carried txids or snapshots, before its listeners run. */
  #onSynced(synced: SyncedTransactions, notifiedKeys: readonly string[] | undefined): void {
    this.#tracker.record(synced)
    const confirmed: Mutation<T>[] = []
    for (const mutation of this.#mutations) {
      const waiting = mutation.waiting
      if (waiting === undefined) continue
      for (const txid of Array.from(waiting)) if (TxidTracker.contains(synced, txid)) waiting.delete(txid)
      if (waiting.size === 0) confirmed.push(mutation)
    }
    if (confirmed.length === 0) return
    this.#remove(confirmed, notifiedKeys)
    for (const mutation of confirmed) mutation.end()
  }

  /**
   * Takes `mutations` out and refolds. Publishes now, or, given the keys a coming store publish notifies
   * (`storeNotifies`), leaves the other touched keys to that publish.
   */
  #remove(mutations: readonly Mutation<T>[], storeNotifies?: readonly string[]): void {
    const touched = new Set<string>()
    for (const mutation of mutations) for (const key of mutation.keys) touched.add(key)
    this.#mutations = this.#mutations.filter((mutation) => !mutations.includes(mutation))
    if (storeNotifies === undefined) this.#change(touched)
    else {
      this.#base = undefined
      this.#deferred ??= new Set()
      const notified = new Set(storeNotifies)
      for (const key of touched) if (!notified.has(key)) this.#deferred.add(key)
    }
  }

  /** One overlay publish touching `keys`. */
  #change(keys: ReadonlySet<string>): void {
    this.#refold(this.#init.store.getSnapshot())
    this.#publish(keys)
  }

  #onStorePublish(): void {
    const deferred = this.#deferred
    this.#deferred = undefined
    if (this.#publishes > 0 || deferred !== undefined) {
      this.#refold(this.#init.store.getSnapshot())
      this.#snapshot = undefined
    }
    for (const listener of Array.from(this.#listeners)) call(listener)
    if (deferred !== undefined) this.#notifyKeys(deferred)
  }

  #publish(keys: ReadonlySet<string>): void {
    this.#publishes++
    this.#snapshot = undefined
    for (const listener of Array.from(this.#listeners)) call(listener)
    this.#notifyKeys(keys)
  }

  #notifyKeys(keys: ReadonlySet<string>): void {
    for (const key of keys) {
      const set = this.#keyListeners.get(key)
      if (set !== undefined) for (const listener of Array.from(set)) call(listener)
    }
  }

  /** Recomputes the visible rows of every overlaid key over `base`, keeping a row's identity when its fields agree. */
  #refold(base: ShapeSnapshot<T>): void {
    this.#base = base
    this.#snapshot = undefined
    if (this.#mutations.length === 0 && this.#visible.size === 0 && this.#pending.size === 0) return
    const previous = this.#visible
    const visible = new Map<string, T | undefined>()
    const pending = new Set<string>()
    const changesOnly = this.#init.store.changesOnly
    for (const mutation of this.#mutations) {
      for (const op of mutation.ops) {
        pending.add(op.key)
        const current = visible.has(op.key) ? visible.get(op.key) : base.rows.get(op.key)
        if (op.kind === 'update' && current === undefined && changesOnly) continue
        let next: T | undefined
        if (op.kind === 'delete') next = undefined
        else if (op.kind === 'insert' || current === undefined) next = op.row as T
        else next = { ...current, ...(op.row as Partial<T>) }
        visible.set(op.key, next)
      }
    }
    for (const [key, row] of visible) {
      const before = previous.get(key)
      if (row !== undefined && before !== undefined && row !== before && shallowEqual(row as object, before as object)) visible.set(key, before)
    }
    this.#visible = visible
    if (!sameSet(pending, this.#pending)) this.#pending = pending
    this.#snapshot = undefined
  }

  #keysFor(base: readonly string[], inserted: readonly string[], deleted: ReadonlySet<string>): readonly string[] {
    const signature = JSON.stringify([inserted, [...deleted]])
    const cache = this.#keysCache
    if (cache !== undefined && cache.base === base && cache.signature === signature) return cache.keys
    const keys = Object.freeze([...base.filter((key) => !deleted.has(key)), ...inserted])
    this.#keysCache = { base, signature, keys }
    return keys
  }
}

function call(listener: () => void): void {
  try {
    listener()
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false
  for (const value of a) if (!b.has(value)) return false
  return true
}

function shallowEqual(a: object, b: object): boolean {
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  for (const key of keysA) {
    if (!Object.hasOwn(b, key) || !Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false
  }
  return true
}

/** The options check of `mutate` (see the invariants above); JavaScript callers and `as` casts reach it too. */
function checkMutateOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('mutate options', 'an object', options)
  const { apply, commit, timeoutMs } = options as Record<string, unknown>
  if (typeof apply !== 'function') throw invalidOption('mutate option "apply"', 'a function', apply)
  if (typeof commit !== 'function') throw invalidOption('mutate option "commit"', 'a function', commit)
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
    throw invalidOption('mutate option "timeoutMs"', 'a number ≥ 0', timeoutMs)
  }
}
