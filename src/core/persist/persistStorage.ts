/**
 * The key-value storage persisted shapes are written to: strings in, strings out, each call may return a promise.
 *
 * Invariants:
 * - The contract is the intersection of `localStorage`, React Native's `AsyncStorage` / MMKV and a `Map`: a value is
 *   a string, a missing key reads as `null` (or `undefined`), and any method may answer now or with a promise.
 * - Listing keys is optional (`keys()`, or a Web Storage's `key(i)`/`length`): a storage that cannot list them still
 *   works, and only loses the safety net of `clearPersisted()` finding entries the namespace index lost.
 * - `memoryStorage()` answers synchronously, so a persisted shape it holds is seeded while `client.shape()` runs and
 *   the first render already shows the stored rows (an async storage seeds before the first request instead).
 */

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
  /**
   * Optional: every key the storage holds. With it, `clearPersisted()` also finds entries the namespace index lost
   * (two tabs rewriting the index at once); `indexedDBStorage()` and `memoryStorage()` have it, and a Web Storage
   * (`localStorage`) is enumerated through its `key(i)` and `length` without it.
   */
  keys?(): MaybePromise<Iterable<string>>
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
  return {
    entries,
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => {
      if (typeof value !== 'string') throw new TypeError('memoryStorage stores strings only')
      entries.set(key, value)
    },
    removeItem: (key) => {
      entries.delete(key)
    },
    keys: () => [...entries.keys()],
  }
}

/** Every key `storage` can list (its `keys()`, or a Web Storage's `key(i)`), or none when it cannot list them. */
export function storageKeys(storage: PersistStorage): MaybePromise<Iterable<string>> {
  if (typeof storage.keys === 'function') return storage.keys()
  const web = storage as Partial<Pick<Storage, 'key' | 'length'>>
  if (typeof web.key !== 'function' || typeof web.length !== 'number') return []
  const keys: string[] = []
  for (let index = 0; index < web.length; index++) {
    const key = web.key(index)
    if (key !== null) keys.push(key)
  }
  return keys
}
