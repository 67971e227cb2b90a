/**
 * The materialized rows of one shape: atomic batches, immutable snapshots, per-key subscriptions.
 *
 * Invariants:
 * - S1. Two layers. `#published` is what readers see (`getRow`, `getSnapshot`, `getOldValue`); `#pending` holds the
 *   final row (or `undefined` for removed) of every key touched since the last publish, and `#cleared` says whether
 *   a must-refetch discarded everything published beneath it. Applying a message only touches `#pending`.
 * - S2. Publish happens only for a batch holding an `up-to-date`, once, with the state as of the batch's last
 *   `up-to-date` (messages after it stay pending). Nothing is published before the first one. `must-refetch` clears
 *   the pending layer but the published snapshot stays until the next publish, which replaces it whole.
 * - S3. Copy-on-write: `#exposed` is true iff a snapshot object referring to the current `#published` Map has been
 *   handed out. Publishing mutates that Map in place when `#exposed` is false (O(changed keys)) and builds a new Map
 *   otherwise, so a Map anyone could have seen is never mutated. Only the current version's snapshot can refer to the
 *   current Map: every older snapshot was created before a publish that, by this rule, left its Map alone.
 * - S4. `version` bumps and listeners run only when a publish changed a row's identity or the first `up-to-date`
 *   arrived. `subscribe` listeners run once per publish; `subscribeKey` listeners only for keys whose row identity
 *   changed. A row whose merged value equals the old one field by field keeps the old object.
 * - S5. `keys` arrays are shared by every snapshot of one membership epoch: the epoch bumps when a publish adds or
 *   removes a key or reorders keys (a refetch). Within an epoch, key order is fixed because an existing key is only
 *   ever overwritten in place (`Map.set` keeps its position). `data`/`keys` are built lazily, at most once each.
 * - S6. A listener that throws is isolated: the others still run, and the error goes to `onListenerError` or is
 *   rethrown in a microtask.
 */
import { isChangeMessage } from './protocol'
import type { Message, Row } from './protocol'

/**
 * One published state of a shape. Immutable: later batches never change a snapshot already obtained.
 *
 * @example
 * const snapshot = store.getSnapshot()
 * snapshot.data.map((row) => row.title)
 */
export interface ShapeSnapshot<T> {
  /** Bumps only when a published batch changed something (0 before the first `up-to-date`). */
  readonly version: number
  /** Rows by shape key. Never mutated after publication. */
  readonly rows: ReadonlyMap<string, T>
  /** Rows in key-insertion order, built lazily once per version. */
  readonly data: readonly T[]
  /** Keys in insertion order; the same array across versions while membership is unchanged. */
  readonly keys: readonly string[]
  /** True once the first `up-to-date` has been published (every published snapshot after that is a complete shape). */
  readonly isUpToDate: boolean
}

/** Options of `ShapeStore`. */
export interface ShapeStoreOptions {
  /** Clock for `lastSyncedAt` (default `Date.now`). */
  now?: () => number
  /** Receives errors thrown by listeners; by default they are rethrown in a microtask (S6). */
  onListenerError?: (error: unknown) => void
}

interface ListenerEntry {
  readonly listener: () => void
}

class Snapshot<T> implements ShapeSnapshot<T> {
  readonly version: number
  readonly rows: ReadonlyMap<string, T>
  readonly isUpToDate: boolean
  #data: readonly T[] | undefined
  #keys: readonly string[] | undefined
  readonly #keysEpoch: number
  readonly #keysFor: (rows: ReadonlyMap<string, unknown>, epoch: number) => readonly string[]

  constructor(
    version: number,
    rows: ReadonlyMap<string, T>,
    isUpToDate: boolean,
    keysEpoch: number,
    keysFor: (rows: ReadonlyMap<string, unknown>, epoch: number) => readonly string[],
  ) {
    this.version = version
    this.rows = rows
    this.isUpToDate = isUpToDate
    this.#keysEpoch = keysEpoch
    this.#keysFor = keysFor
  }

  get data(): readonly T[] {
    this.#data ??= Object.freeze(Array.from(this.rows.values()))
    return this.#data
  }

  get keys(): readonly string[] {
    this.#keys ??= this.#keysFor(this.rows, this.#keysEpoch)
    return this.#keys
  }
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

  #published = new Map<string, T>()
  #exposed = false
  #snapshot: Snapshot<T> | undefined
  #version = 0
  #publishedUpToDate = false

  #pending = new Map<string, T | undefined>()
  #cleared = false
  #upToDate = false
  #lastSyncedAt: number | undefined

  #oldValues = new Map<string, Partial<T>>()
  #pendingOld = new Map<string, Partial<T> | undefined>()

  #keysEpoch = 0
  #keysCache: { readonly epoch: number; readonly keys: readonly string[] } | undefined

  readonly #listeners = new Set<ListenerEntry>()
  readonly #keyListeners = new Map<string, Set<ListenerEntry>>()

  constructor(options: ShapeStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#onListenerError = options.onListenerError
  }

  /** True after an `up-to-date` until the next `must-refetch`/`reset` (the pending state has caught up). */
  get isUpToDate(): boolean {
    return this.#upToDate
  }

  /** `now()` at the last batch that held an `up-to-date`; undefined before the first. Kept across resets. */
  get lastSyncedAt(): number | undefined {
    return this.#lastSyncedAt
  }

  /** Applies parsed protocol messages atomically; publishes and notifies at most once (S2, S4). */
  applyBatch(messages: readonly Message<T>[]): void {
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
    for (let i = lastUpToDate + 1; i < messages.length; i++) this.#apply(messages[i] as Message<T>)
    if (publication) this.#notify(publication)
  }

  /** What a `must-refetch` does: drops pending rows and old values; the published snapshot stays (S2). */
  reset(): void {
    this.#pending.clear()
    this.#pendingOld.clear()
    this.#cleared = true
    this.#upToDate = false
  }

  /** The published snapshot: the same object until the next published change; never allocates after the first call. */
  getSnapshot(): ShapeSnapshot<T> {
    if (this.#snapshot === undefined) {
      this.#snapshot = new Snapshot(
        this.#version,
        this.#published,
        this.#publishedUpToDate,
        this.#keysEpoch,
        this.#keysFor,
      )
      this.#exposed = true
    }
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

  #current(key: string): T | undefined {
    if (this.#pending.has(key)) return this.#pending.get(key)
    return this.#cleared ? undefined : this.#published.get(key)
  }

  #apply(message: Message<T>): void {
    if (!isChangeMessage(message)) {
      if (message.headers.control === 'up-to-date') this.#upToDate = true
      else if (message.headers.control === 'must-refetch') this.reset()
      return
    }
    const { key, value } = message
    const existing = this.#current(key)
    switch (message.headers.operation) {
      case 'insert':
        this.#pending.set(key, existing !== undefined && shallowEqual(existing, value) ? existing : value)
        this.#pendingOld.set(key, undefined)
        break
      case 'update': {
        const merged = existing === undefined ? value : ({ ...existing, ...value } as T)
        this.#pending.set(key, existing !== undefined && shallowEqual(existing, merged) ? existing : merged)
        this.#pendingOld.set(key, message.old_value)
        break
      }
      case 'delete':
        this.#pending.set(key, undefined)
        this.#pendingOld.set(key, undefined)
        break
    }
  }

  /** Moves the pending layer into the published state (S1–S5); returns what changed, or undefined if nothing did. */
  #publish(): { changedKeys: readonly string[] } | undefined {
    this.#lastSyncedAt = this.#now()
    const previous = this.#published
    const changedKeys: string[] = []
    let next = previous
    let membershipChanged = false
    if (this.#cleared) {
      next = new Map()
      for (const [key, row] of this.#pending) {
        if (row === undefined) continue
        const old = previous.get(key)
        const kept = old !== undefined && shallowEqual(old, row) ? old : row
        next.set(key, kept)
        if (kept !== old) changedKeys.push(key)
      }
      for (const key of previous.keys()) if (!next.has(key)) changedKeys.push(key)
      membershipChanged = !sameKeyOrder(previous, next)
      if (changedKeys.length === 0 && !membershipChanged) next = previous
      this.#oldValues.clear()
    } else {
      for (const [key, row] of this.#pending) {
        const old = previous.get(key)
        if (row === old) continue
        changedKeys.push(key)
        if ((row === undefined) !== (old === undefined)) membershipChanged = true
      }
      if (changedKeys.length > 0) {
        next = this.#exposed ? new Map(previous) : previous
        for (const key of changedKeys) {
          const row = this.#pending.get(key)
          if (row === undefined) next.delete(key)
          else next.set(key, row)
        }
      }
    }
    for (const [key, old] of this.#pendingOld) {
      if (old === undefined) this.#oldValues.delete(key)
      else this.#oldValues.set(key, old)
    }
    this.#pending.clear()
    this.#pendingOld.clear()
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
    this.#snapshot = undefined
    return { changedKeys }
  }

  #notify({ changedKeys }: { changedKeys: readonly string[] }): void {
    for (const entry of Array.from(this.#listeners)) this.#call(entry)
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

  /** Keys of a snapshot's rows, shared across snapshots of the current membership epoch (S5). */
  readonly #keysFor = (rows: ReadonlyMap<string, unknown>, epoch: number): readonly string[] => {
    if (this.#keysCache?.epoch === epoch) return this.#keysCache.keys
    const keys = Object.freeze(Array.from(rows.keys()))
    if (epoch === this.#keysEpoch) this.#keysCache = { epoch, keys }
    return keys
  }
}

function sameKeyOrder(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false
  const other = b.keys()
  for (const key of a.keys()) if (other.next().value !== key) return false
  return true
}

/** Field-by-field `Object.is` equality of two rows (S4); anything that is not a plain object compares by identity. */
function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  for (const key of keysA) {
    if (!Object.hasOwn(b, key) || !Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
      return false
    }
  }
  return true
}
