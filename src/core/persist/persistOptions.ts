/**
 * `ShapeClientOptions.persist`, its checks, and how a client finds the code that persists.
 *
 * Invariants:
 * - Bad options throw `InvalidOptionsError` from the `ShapeClient` constructor, whichever storage is passed.
 * - The persisting code (the persister, the entry format, the value encoding) is reached in one of two ways: a storage
 *   this package creates (`memoryStorage()`, `indexedDBStorage()`) carries it under `PERSISTER`, so an app that
 *   persists ships it with the storage and a synchronous storage seeds a shape while `client.shape()` runs; any other
 *   storage gets it by `import()` (deferredPersister.ts). An app that never persists never loads it.
 */
import type { Clock } from '../clock'
import type { FetchLike } from '../fetchLike'
import type { Shape, ShapePersistence } from '../shape'
import type { ShapeOptions } from '../shapeOptions'
import type { PageHideAdapter } from './pageHide'
import type { PersistStorage } from './persistStorage'
import { InvalidOptionsError } from '../errors'

/**
 * `ShapeClientOptions.persist`: keep up-to-date shapes in `storage` so a reload shows them at once and resumes live.
 * @example
 * new ShapeClient({ persist: { storage: indexedDBStorage(), namespace: session.userId, buster: APP_VERSION } })
 */
export interface PersistOptions {
  /**
   * Where entries go: `{ getItem, setItem, removeItem }` over strings, sync or async. `memoryStorage()` and
   * `indexedDBStorage()` bring the persisting code with them; any other storage loads it with `import()`, so its
   * stored rows are published a moment after `client.shape()` returns (still before the first request).
   */
  storage: PersistStorage
  /** Separates users (pass the user id): entries of one namespace are never read by another. Default `'default'`. */
  namespace?: string
  /** Entries last synced longer ago than this are dropped on load. Default 7 days. */
  maxAgeMs?: number
  /** Entries written with another buster are dropped on load (bump it when a parser or row shape changes). */
  buster?: string
  /** At most one write per shape per this many ms (plus one on page hide and on close). Default 1000. */
  throttleMs?: number
  /** How long the first request of a shape waits for an async storage read before going without it. Default 2000. */
  readTimeoutMs?: number
  /** When to write what the throttle holds; default the browser's `pagehide`/hidden; `null` for none. */
  pageHide?: PageHideAdapter | null
}

/** Default of `PersistOptions.readTimeoutMs`. */
export const DEFAULT_READ_TIMEOUT_MS = 2000

/** A client's persistence, as `ShapeClient` uses it (`ShapePersister`, or `DeferredPersister` while it loads). */
export interface ClientPersister {
  /** The persistence of a new shape, or `undefined` when its definition cannot be persisted (function params). */
  open<T>(options: ShapeOptions<T>): AttachablePersistence<T> | undefined
  flush(): Promise<void>
  clear(): Promise<void>
  dispose(): void
}

/** One shape's persistence before it is attached to its shape. */
export interface AttachablePersistence<T> extends ShapePersistence {
  /** `fetch` for the shape's stream: a 2xx answer ends `source: 'cache'`. */
  observe(fetch: FetchLike): FetchLike
  /** Reads the stored entry of `shape` (seeding it) and starts watching it for writes. */
  attach(shape: Shape<T>): void
}

/** Builds a client's persister; what a storage of this package carries. */
export type PersisterFactory = (options: PersistOptions, clock: Clock) => ClientPersister

/** The property under which a storage carries its `PersisterFactory`. */
export const PERSISTER: unique symbol = Symbol('live-shapes persister')

/** The factory `storage` carries, if any. */
export function persisterOf(storage: PersistStorage): PersisterFactory | undefined {
  return (storage as { [PERSISTER]?: PersisterFactory })[PERSISTER]
}

/** Throws `InvalidOptionsError` for a bad `persist` option. */
export function checkPersistOptions(options: PersistOptions): void {
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
