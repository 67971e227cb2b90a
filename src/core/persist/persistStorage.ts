/**
 * The key-value storage persisted shapes are written to: strings in, strings out, each call may return a promise.
 *
 * Invariants:
 * - The contract is the intersection of `localStorage`, React Native's `AsyncStorage` / MMKV and a `Map`: a value is
 *   a string, a missing key reads as `null` (or `undefined`), and any method may answer now or with a promise.
 * - `memoryStorage()` answers synchronously and carries the persisting code (persistOptions.ts), so a persisted shape
 *   it holds is seeded while `client.shape()` runs and the first render already shows the stored rows (an async
 *   storage, or one that does not carry the code, seeds before the first request instead).
 */
import { withPersister } from './shapePersister'

/** A value now or later. */
export type MaybePromise<T> = T | Promise<T>

/**
 * Where persisted shapes live. `localStorage`, `AsyncStorage`, MMKV (wrapped), `indexedDBStorage()`,
 * `memoryStorage()` or a file in Node all fit.
 * @example
 * const storage: PersistStorage = window.localStorage
 * const client = new ShapeClient({ persist: { storage, namespace: user.id } })
 */
export interface PersistStorage {
  getItem(key: string): MaybePromise<string | null | undefined>
  setItem(key: string, value: string): MaybePromise<unknown>
  removeItem(key: string): MaybePromise<unknown>
}

/** A `PersistStorage` over a `Map`, for tests and for a cache that should not outlive the page. */
export interface MemoryStorage extends PersistStorage {
  /** The stored entries, by key (tests read and corrupt them). */
  readonly entries: Map<string, string>
}

/**
 * A synchronous in-memory `PersistStorage` (tests, or a cache shared by clients of one page).
 * @example
 * const storage = memoryStorage()
 * const client = new ShapeClient({ persist: { storage } })
 * storage.entries.size // entries written so far
 */
export function memoryStorage(initial?: Iterable<readonly [string, string]>): MemoryStorage {
  const entries = new Map<string, string>(initial)
  return withPersister({
    entries,
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => {
      if (typeof value !== 'string') throw new TypeError('memoryStorage stores strings only')
      entries.set(key, value)
    },
    removeItem: (key) => {
      entries.delete(key)
    },
  })
}

/**
 * `storage` with the persisting code loaded eagerly (see persistOptions.ts): a synchronous storage such as
 * `localStorage` then seeds a persisted shape while `client.shape()` runs, so the first render shows the stored rows.
 * A storage passed as it is loads that code with `import()` and is seeded a moment later (before the first request).
 * @example
 * const client = new ShapeClient({ persist: { storage: eagerStorage(window.localStorage), namespace: user.id } })
 */
export function eagerStorage(storage: PersistStorage): PersistStorage {
  return withPersister({
    getItem: (key) => storage.getItem(key),
    setItem: (key, value) => storage.setItem(key, value),
    removeItem: (key) => storage.removeItem(key),
  })
}
