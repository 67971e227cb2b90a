/**
 * A `PersistStorage` over IndexedDB, through `idb-keyval` (one object store, string values).
 *
 * Invariants:
 * - `idb-keyval` is loaded by `import()` on the first call, so an app that never persists does not ship it (a bundler
 *   splits it into its own chunk) and a server render never touches `indexedDB`.
 * - Each call opens no connection of its own: one `idb-keyval` store per `indexedDBStorage()` call, created on first
 *   use and reused.
 * - Where there is no IndexedDB at all (a server render of a client component, Node), the storage holds nothing and
 *   writes nothing, without loading `idb-keyval`: the same client code runs on the server and in the browser, and the
 *   server must neither warn on every render nor reject a logout. A browser whose IndexedDB fails still reports it.
 */
import type { PersistStorage } from './persistStorage'

/** Where `indexedDBStorage` keeps its entries. */
export interface IndexedDBStorageOptions {
  /** Database name, default `'live-shapes'`. */
  databaseName?: string
  /** Object store name, default `'shapes'`. */
  storeName?: string
}

type IdbKeyval = typeof import('idb-keyval')
type Store = ReturnType<IdbKeyval['createStore']>

/**
 * The browser's IndexedDB as a `PersistStorage` (values are strings; quota errors reject `setItem`).
 * @example
 * const client = new ShapeClient({ persist: { storage: indexedDBStorage(), namespace: session.userId } })
 */
export function indexedDBStorage(options: IndexedDBStorageOptions = {}): PersistStorage {
  const databaseName = options.databaseName ?? 'live-shapes'
  const storeName = options.storeName ?? 'shapes'
  let loading: Promise<{ idb: IdbKeyval; store: Store }> | undefined
  const load = (): Promise<{ idb: IdbKeyval; store: Store }> => {
    loading ??= import('idb-keyval').then(
      (idb) => ({ idb, store: idb.createStore(databaseName, storeName) }),
      (error: unknown) => {
        loading = undefined
        throw error
      },
    )
    return loading
  }
  const absent = (): boolean => typeof indexedDB === 'undefined'
  return {
    async getItem(key) {
      if (absent()) return null
      const { idb, store } = await load()
      const value = await idb.get<unknown>(key, store)
      return typeof value === 'string' ? value : null
    },
    async setItem(key, value) {
      if (absent()) return
      const { idb, store } = await load()
      await idb.set(key, value, store)
    },
    async removeItem(key) {
      if (absent()) return
      const { idb, store } = await load()
      await idb.del(key, store)
    },
    async keys() {
      if (absent()) return []
      const { idb, store } = await load()
      return (await idb.keys(store)).filter((key): key is string => typeof key === 'string')
    },
  }
}
