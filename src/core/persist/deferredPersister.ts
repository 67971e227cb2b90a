/**
 * Persistence to a storage that does not carry the persisting code (persistOptions.ts): the code is loaded with
 * `import()` when the client is created, and each shape reads its entry at once while it loads.
 *
 * Invariants:
 * - A shape's entry is read when the shape is created, as with a carried persister (storedRead.ts): the read and its
 *   timeout do not wait for the code.
 * - The shape's stream starts only after the code loaded and the entry was read and seeded (`pending`), so the first
 *   request still resumes from the stored position; only the first render may show the rows one tick later.
 * - Until the code loaded, the status is the stream's own (no `source`); then `ShapePersister` takes over entirely.
 * - Closing the shape or disposing the client before the code loaded leaves no timer or listener behind once it has.
 */
import type { Clock } from '../clock'
import type { FetchLike } from '../fetchLike'
import type { Shape } from '../shape'
import type { ShapeOptions } from '../shapeOptions'
import type { ShapeStatus } from '../shapeStatus'
import type { AttachablePersistence, ClientPersister, PersistOptions } from './persistOptions'
import type { PersistedShape } from './persistedShape'
import type { ShapePersister } from './shapePersister'
import type { StartedRead } from './storedRead'
import { persistTarget } from './persistKey'
import { DEFAULT_READ_TIMEOUT_MS } from './persistOptions'
import { startRead } from './storedRead'

/** A client's persistence while `ShapePersister` loads, and a thin forwarder to it afterwards. */
export class DeferredPersister implements ClientPersister {
  readonly #options: PersistOptions
  readonly #clock: Clock
  readonly #loaded: Promise<ShapePersister | undefined>
  #disposed = false

  constructor(options: PersistOptions, clock: Clock) {
    this.#options = options
    this.#clock = clock
    this.#loaded = import('./shapePersister').then(
      ({ ShapePersister }) => {
        const persister = new ShapePersister(options, clock)
        if (this.#disposed) persister.dispose()
        return persister
      },
      (error: unknown) => {
        console.warn(`[live-shapes] Persistence is off: its code did not load (${String(error)})`)
        return undefined
      },
    )
  }

  open<T>(options: ShapeOptions<T>): AttachablePersistence<T> | undefined {
    const target = persistTarget(this.#options.namespace, options as ShapeOptions<unknown>)
    if (target === undefined) return undefined
    const read = (): StartedRead =>
      startRead(this.#options.storage, target.key, this.#clock, this.#options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, target.label)
    return new DeferredShape<T>(this.#loaded, options, read)
  }

  flush(): Promise<void> {
    return this.#loaded.then((persister) => persister?.flush())
  }

  clear(): Promise<void> {
    return this.#loaded.then((persister) => persister?.clear())
  }

  dispose(): void {
    this.#disposed = true
    void this.#loaded.then((persister) => persister?.dispose())
  }
}

/** One shape's persistence while the code loads; forwards to its `PersistedShape` afterwards. */
class DeferredShape<T> implements AttachablePersistence<T> {
  pending: Promise<void> | undefined
  readonly #loaded: Promise<ShapePersister | undefined>
  readonly #options: ShapeOptions<T>
  readonly #read: () => StartedRead
  readonly #listeners = new Set<() => void>()
  #real: PersistedShape<T> | undefined
  #cancelRead: (() => void) | undefined
  #observed: FetchLike | undefined
  #fetch: FetchLike | undefined

  constructor(loaded: Promise<ShapePersister | undefined>, options: ShapeOptions<T>, read: () => StartedRead) {
    this.#loaded = loaded
    this.#options = options
    this.#read = read
  }

  observe(fetch: FetchLike): FetchLike {
    this.#fetch = fetch
    return (input, init) => (this.#observed ?? fetch)(input, init)
  }

  attach(shape: Shape<T>): void {
    const read = this.#read()
    if ('later' in read) this.#cancelRead = read.cancel
    this.pending = Promise.all([this.#loaded, 'now' in read ? read.now : read.later]).then(([persister, outcome]) => {
      this.pending = undefined
      this.#cancelRead = undefined
      const real = persister?.open(this.#options)
      if (real === undefined) return
      this.#real = real
      if (this.#fetch !== undefined) this.#observed = real.observe(this.#fetch)
      real.subscribe(() => this.#bump())
      real.attach(shape, { now: outcome })
      if (shape.isClosed) real.closed()
      this.#bump()
    })
  }

  decorate(status: ShapeStatus): ShapeStatus {
    return this.#real ? this.#real.decorate(status) : status
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  closed(): void {
    if (this.#real) this.#real.closed()
    else this.#cancelRead?.()
  }

  #bump(): void {
    for (const listener of [...this.#listeners]) listener()
  }
}
