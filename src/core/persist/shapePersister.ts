/**
 * The persistence of one `ShapeClient`: its options, the storage queue, the per-namespace index, the page-hide
 * flush, `clearPersisted()` and the degraded mode after a storage failure.
 *
 * Invariants:
 * - Every storage operation of a client runs through one queue, in order: a write issued before `clear()` lands
 *   before the clear removes it, and the namespace index is read and rewritten by one operation at a time. With a
 *   synchronous storage and nothing queued, an operation completes before its call returns (a shape closed by
 *   `dispose()` is in storage when the next client reads it).
 * - Every entry key is `live-shapes/<namespace>/shape/<definition>`, and a key is listed in the entry
 *   `live-shapes/<namespace>/index` before each write of its entry, so `clear()` removes every entry of its
 *   namespace and no other, even one whose index update failed (a quota error on the index must not leave user data
 *   that a later logout cannot find). Two tabs rewriting the index at once can still drop a key from it, so `clear()`
 *   also removes every key under the namespace's prefix that the storage lists (persistStorage.ts, `storageKeys`).
 * - A storage failure on write (quota exceeded, storage gone) turns persistence off for the client: no further
 *   writes, one console warning, and a `warning` in the status of every persisted shape; nothing is thrown.
 * - Nothing of the client stays registered after `dispose()` (the page-hide listener is removed).
 */
import type { Clock } from '../clock'
import type { ShapeOptions } from '../shapeOptions'
import type { PageHideAdapter } from './pageHide'
import type { MaybePromise, PersistStorage } from './persistStorage'
import { storageKeys } from './persistStorage'
import { InvalidOptionsError } from '../errors'
import { browserPageHide } from './pageHide'
import { persistDefinitionKey } from './persistedEntry'
import { PersistedShape } from './persistedShape'

/**
 * `ShapeClientOptions.persist`: keep up-to-date shapes in `storage` so a reload shows them at once and resumes live.
 * @example
 * new ShapeClient({ persist: { storage: indexedDBStorage(), namespace: session.userId, buster: APP_VERSION } })
 */
export interface PersistOptions {
  /** Where entries go: `{ getItem, setItem, removeItem }` over strings, sync or async. */
  storage: PersistStorage
  /** Separates users (pass the user id): entries of one namespace are never read by another. Default `'default'`. */
  namespace?: string | undefined
  /** Entries last synced longer ago than this are dropped on load. Default 7 days. */
  maxAgeMs?: number | undefined
  /** Entries written with another buster are dropped on load (bump it when a parser or row shape changes). */
  buster?: string | undefined
  /** At most one write per shape per this many ms (plus one on page hide and on close). Default 1000. */
  throttleMs?: number | undefined
  /** How long the first request of a shape waits for an async storage read before going without it. Default 2000. */
  readTimeoutMs?: number | undefined
  /**
   * When to write what the throttle holds; default (also for `undefined`, which `browserPageHide()` returns where there
   * is no `window`) the browser's `pagehide`/hidden; `null` for none.
   */
  pageHide?: PageHideAdapter | null | undefined
}

const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000
const PREFIX = 'live-shapes'

/** The client's side of persistence; `PersistedShape` is one shape's side. */
export class ShapePersister {
  readonly storage: PersistStorage
  readonly clock: Clock
  readonly buster: string
  readonly maxAgeMs: number
  readonly throttleMs: number
  readonly readTimeoutMs: number
  readonly #namespaceKey: string
  readonly #shapes = new Set<PersistedShape<unknown>>()
  readonly #unsubscribePageHide: (() => void) | undefined
  #tail: Promise<void> = Promise.resolve()
  #inFlight = 0
  #indexed = new Set<string>()
  #warning: string | undefined

  constructor(options: PersistOptions, clock: Clock) {
    checkPersistOptions(options)
    this.storage = options.storage
    this.clock = clock
    this.buster = options.buster ?? ''
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS
    this.throttleMs = options.throttleMs ?? 1000
    this.readTimeoutMs = options.readTimeoutMs ?? 2000
    this.#namespaceKey = `${PREFIX}/${encodeURIComponent(options.namespace ?? 'default')}`
    const pageHide = options.pageHide === null ? undefined : (options.pageHide ?? browserPageHide())
    this.#unsubscribePageHide = pageHide?.subscribe(() => {
      for (const shape of this.#shapes) shape.flush()
    })
  }

  /** Why persistence is off, once a write failed. */
  get warning(): string | undefined {
    return this.#warning
  }

  /** The persistence of a new shape, or `undefined` when its definition cannot be persisted (function params). */
  open<T>(options: ShapeOptions<T>): PersistedShape<T> | undefined {
    const definition = persistDefinitionKey(options as ShapeOptions<unknown>)
    if (definition === undefined) return undefined
    const label = typeof options.params.table === 'string' ? options.params.table : 'shape'
    return new PersistedShape<T>(this, `${this.#namespaceKey}/shape/${definition}`, definition, label)
  }

  /** A shape that may write (attached, or changed since it reopened); forgotten when it closes, so none is kept alive. */
  track(shape: PersistedShape<unknown>, open: boolean): void {
    if (open) this.#shapes.add(shape)
    else this.#shapes.delete(shape)
  }

  /** Queues a write of `text` under `key`, listing the key in the namespace index first (see the invariants). */
  write(key: string, text: string): Promise<void> {
    return this.#enqueue(() => {
      if (this.#warning !== undefined) return undefined
      return settle(
        () => then(this.#list(key), () => this.storage.setItem(key, text)),
        (error) => this.#degrade(error),
      )
    })
  }

  /** Queues the removal of one entry (a dropped one); failures are only logged. */
  remove(key: string): Promise<void> {
    return this.#enqueue(() =>
      settle(
        () => this.storage.removeItem(key),
        (error) => console.warn(`[live-shapes] Could not remove a dropped persisted shape: ${describe(error)}`),
      ),
    )
  }

  /** Writes every shape's pending state now and resolves once storage has it. */
  flush(): Promise<void> {
    for (const shape of this.#shapes) shape.flush()
    return this.#enqueue(() => undefined)
  }

  /**
   * Removes every entry of the namespace (logout). Shapes still running persist their later states again. A failed
   * removal rejects once every other entry was removed, and keeps the index so a later `clear()` finds the entry.
   */
  clear(): Promise<void> {
    for (const shape of this.#shapes) shape.cleared()
    const open = [...this.#shapes].map((shape) => shape.key)
    return this.#enqueue(async () => {
      const keys = new Set([...(await Promise.resolve(this.#readIndex()).catch(() => [])), ...open, ...this.#indexed])
      // The index can miss an entry when two tabs rewrote it at once: a storage that lists its keys is asked too.
      const prefix = `${this.#namespaceKey}/`
      for (const key of await Promise.resolve(storageKeys(this.storage)).catch(() => [])) {
        if (key.startsWith(prefix)) keys.add(key)
      }
      keys.delete(this.#indexKey())
      this.#indexed = new Set()
      // One failed removal must not leave the rest of the user's entries behind; the index stays while any is left.
      let failure: { error: unknown } | undefined
      for (const key of keys) {
        try {
          await this.storage.removeItem(key)
        } catch (error) {
          failure ??= { error }
        }
      }
      if (failure) throw failure.error
      await this.storage.removeItem(this.#indexKey())
    })
  }

  /** Flushes what the shapes hold and removes the page-hide listener. */
  dispose(): void {
    this.#unsubscribePageHide?.()
  }

  #indexKey(): string {
    return `${this.#namespaceKey}/index`
  }

  /**
   * Adds `key` to the namespace index unless it is listed there. The index is read before every write, not
   * remembered: another client of the namespace (a second client on the same storage, a logout in another tab) may
   * have cleared it since this client last listed the key.
   */
  #list(key: string): MaybePromise<unknown> {
    return then(this.#readIndex(), (index) => {
      const listed = (): void => void this.#indexed.add(key)
      if (index.includes(key)) return listed()
      return then(this.storage.setItem(this.#indexKey(), JSON.stringify([...index, key])), listed)
    })
  }

  #readIndex(): MaybePromise<string[]> {
    return then(this.storage.getItem(this.#indexKey()), (text) => {
      if (typeof text !== 'string') return []
      try {
        const list: unknown = JSON.parse(text)
        return Array.isArray(list) ? list.filter((key): key is string => typeof key === 'string') : []
      } catch {
        return []
      }
    })
  }

  /** Runs `operation` after the queued ones; at once when nothing is queued (so a sync storage answers in the call). */
  #enqueue(operation: () => unknown): Promise<void> {
    if (this.#inFlight === 0) {
      let result: unknown
      try {
        result = operation()
      } catch (error) {
        return Promise.reject(error)
      }
      if (!isThenable(result)) return Promise.resolve()
      return this.#track(Promise.resolve(result))
    }
    return this.#track(this.#tail.then(operation))
  }

  #track(run: Promise<unknown>): Promise<void> {
    this.#inFlight++
    const done = run.then(
      () => undefined,
      (error: unknown) => {
        throw error
      },
    )
    this.#tail = done.catch(() => undefined).finally(() => void this.#inFlight--)
    return done
  }

  #degrade(error: unknown): void {
    if (this.#warning !== undefined) return
    this.#warning = `Persistence is off: storage refused a write (${describe(error)})`
    console.warn(`[live-shapes] ${this.#warning}`)
    for (const shape of [...this.#shapes]) shape.degraded()
  }
}

function checkPersistOptions(options: PersistOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('Option "persist" must be an object')
  const { storage } = options
  const methods = ['getItem', 'setItem', 'removeItem'] as const
  if (typeof storage !== 'object' || storage === null || !methods.every((name) => typeof storage[name] === 'function')) {
    throw new InvalidOptionsError('Option "persist.storage" must have getItem, setItem and removeItem functions')
  }
  if (options.namespace !== undefined && (typeof options.namespace !== 'string' || options.namespace === '')) {
    throw new InvalidOptionsError('Option "persist.namespace" must be a non-empty string')
  }
  if (options.buster !== undefined && typeof options.buster !== 'string') {
    throw new InvalidOptionsError('Option "persist.buster" must be a string')
  }
  for (const name of ['maxAgeMs', 'throttleMs', 'readTimeoutMs'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value) || value < 0)) {
      throw new InvalidOptionsError(`Option "persist.${name}" must be a number ≥ 0, got ${JSON.stringify(value)}`)
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** `next(value)` now, or once `value` resolves. */
function then<V, R>(value: MaybePromise<V>, next: (value: V) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? (value as Promise<V>).then(next) : next(value as V)
}

/** Runs `run`, routing a throw or a rejection to `onError`, sync when `run` is. */
function settle(run: () => unknown, onError: (error: unknown) => void): unknown {
  try {
    const result = run()
    return isThenable(result) ? Promise.resolve(result).catch(onError) : result
  } catch (error) {
    onError(error)
    return undefined
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
