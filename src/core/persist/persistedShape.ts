/**
 * One shape's persistence: the stored entry read (and seeded) before the stream starts, the throttled writes of its
 * up-to-date states, and the status fields that say where its rows came from.
 *
 * Invariants:
 * - Only what `Shape.getHydrationState()` returns is written: published, up-to-date rows with the offset they are as
 *   of (see shape.ts: `getHydrationState` returns rows and position only when they agree), never a half-applied batch,
 *   a catch-up or a refetch in progress.
 * - Writes never run inside a publish: a publish only arms a write (a microtask when `throttleMs` has passed since
 *   the last one, a clock timer otherwise); at most one write per `throttleMs`, plus one on page hide, on `flush()`
 *   and when the shape closes. A write re-encodes the whole shape, so the gap after a write is also at least ten
 *   times what its encoding took: a large live shape spends at most about a tenth of the main thread persisting. A write is skipped when handle,
 *   offset and snapshot are those last written (or seeded); a flush (page hide, close, `flushPersisted`) also writes
 *   when only `lastSyncedAt` moved, so the next load's `cacheAgeMs` and `maxAgeMs` count from the last sync, not the
 *   last change, without a quiet live shape being re-encoded on every empty long-poll answer. After a clear
 *   (`clearPersisted()`, logout) what the shape held at that moment counts as written: only later states are written
 *   again, so closing the shapes after a logout never puts its rows back.
 * - The stored entry is read once, when the shape is created: a synchronous storage seeds it at once (the first
 *   client render shows the rows; hydration first renders what the server, which has no storage, rendered: see
 *   shapeView.ts); an async one holds the stream's start (`pending`) until the read settles or
 *   `readTimeoutMs` passes, so the first request is the live one from the stored position, never `offset=-1`.
 * - A shape that hydration creates (a server render's rows) is not read at all: the server's rows are what the first
 *   render must show (the hydrated HTML), even when the stored entry of the same handle is newer, and its live request
 *   does not wait for storage. Its later states are written as usual.
 * - A stored entry that cannot be trusted (format, buster, age, definition, corrupt) is removed with a console
 *   warning; nothing is thrown at the app. A newer state (hydration) is never replaced by an older entry.
 * - `source` is `'cache'` from the seed until a 2xx response of this shape's stream that is not part of a refetch
 *   (after a 409 the cached rows stay shown until the refetched rows are up to date), or until other rows are
 *   published (a server render's hydration), `'network'` after it.
 */
import type { FetchLike } from '../fetchLike'
import type { Shape, ShapePersistence } from '../shape'
import type { ShapeSnapshot } from '../shapeStore'
import type { ShapeRowSource, ShapeStatus } from '../shapeStatus'
import type { TimerHandle } from '../clock'
import type { ShapePersister } from './shapePersister'
import { readEntry, writeEntry } from './persistedEntry'

interface Written {
  handle: string | undefined
  offset: string | undefined
  snapshot: ShapeSnapshot<unknown>
  lastSyncedAt: number | undefined
}

/** The persistence of one shape, built by `ShapePersister.open`. */
export class PersistedShape<T> implements ShapePersistence {
  /** The storage key of this shape's entry. */
  readonly key: string
  readonly #persister: ShapePersister
  readonly #definition: string
  readonly #label: string
  readonly #listeners = new Set<() => void>()
  #shape: Shape<T> | undefined
  #pending: Promise<void> | undefined
  #settleRead: (() => void) | undefined
  #readTimer: TimerHandle | undefined
  /** The armed write: a clock timer while throttled, a microtask (no handle) when the interval already passed. */
  #writeTimer: { handle: TimerHandle | undefined } | undefined
  #lastWriteAt = -Infinity
  /** The gap the throttle keeps after the last write: `throttleMs`, or ten times that write's encoding. */
  #gapMs = 0
  #written: Written | undefined
  #seeded: ShapeSnapshot<T> | undefined
  #seeding = false
  #source: ShapeRowSource = 'network'
  #cacheAgeMs: number | undefined
  #answered = false
  #warning: string | undefined
  #disabled = false
  #decorated: { input: ShapeStatus; version: number; shared: string | undefined; output: ShapeStatus } | undefined
  #version = 0

  constructor(persister: ShapePersister, key: string, definition: string, label: string) {
    this.#persister = persister
    this.key = key
    this.#definition = definition
    this.#label = label
  }

  get pending(): Promise<void> | undefined {
    return this.#pending
  }

  get seeding(): boolean {
    return this.#seeding
  }

  /** `fetch` for this shape's stream: a 2xx answer ends `source: 'cache'` (see the invariants). */
  observe(fetch: FetchLike): FetchLike {
    return async (input, init) => {
      const response = await fetch(input, init)
      if (response.status >= 200 && response.status < 300) {
        this.#answered = true
        this.#confirm()
      }
      return response
    }
  }

  /**
   * Starts watching `shape` for writes and, unless `seed` is false (a shape hydration creates: see above), reads its
   * stored entry and seeds it.
   */
  attach(shape: Shape<T>, seed = true): void {
    this.#shape = shape
    this.#persister.track(this as PersistedShape<unknown>, true)
    shape.subscribe(() => {
      if (!this.#seeding && this.#source === 'cache' && shape.getSyncedSnapshot() !== this.#seeded) this.#toNetwork()
      this.#changed()
    })
    shape.subscribeStatus(() => {
      this.#confirm()
      this.#changed()
    })
    if (!seed) return
    let read: ReturnType<ShapePersister['storage']['getItem']>
    try {
      read = this.#persister.storage.getItem(this.key)
    } catch (error) {
      this.#readFailed(error)
      return
    }
    if (!isThenable(read)) {
      this.#apply(read)
      return
    }
    const clock = this.#persister.clock
    this.#pending = new Promise<void>((resolve) => {
      let settled = false
      const settle = (text: string | null | undefined, failure?: { error: unknown }): void => {
        if (settled) return
        settled = true
        if (this.#readTimer !== undefined) clock.clearTimeout(this.#readTimer)
        this.#readTimer = undefined
        this.#settleRead = undefined
        this.#pending = undefined
        if (failure) this.#readFailed(failure.error)
        else this.#apply(text)
        resolve()
      }
      this.#settleRead = () => settle(undefined)
      this.#readTimer = clock.setTimeout(() => {
        console.warn(`[live-shapes] Persisted ${this.#label} not read within ${this.#persister.readTimeoutMs} ms; syncing without it`)
        settle(undefined)
      }, this.#persister.readTimeoutMs)
      read.then(
        (text) => settle(text),
        (error: unknown) => settle(undefined, { error }),
      )
    })
  }

  decorate(status: ShapeStatus): ShapeStatus {
    const cached = this.#decorated
    const shared = this.#persister.warning
    if (cached && cached.input === status && cached.version === this.#version && cached.shared === shared) return cached.output
    const warning = this.#warning ?? shared
    const output: ShapeStatus = Object.freeze({
      ...status,
      source: this.#source,
      cacheAgeMs: this.#source === 'cache' ? this.#cacheAgeMs : undefined,
      warning: status.warning ?? warning,
    })
    this.#decorated = { input: status, version: this.#version, shared, output }
    return output
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  closed(): void {
    this.#settleRead?.()
    this.flush()
    this.#persister.track(this as PersistedShape<unknown>, false)
  }

  /** Writes the current state now if it changed since the last write (page hide, close, `flushPersisted`). */
  flush(): void {
    this.#cancelPendingWrite()
    this.#write(true)
  }

  /** The client's persistence turned off (a storage failure): the status shows its warning. */
  degraded(): void {
    this.#bump()
  }

  /**
   * The namespace is being cleared (logout): forgets a throttled write and counts what the shape holds now as written,
   * so a later flush (close, page hide, `flushPersisted`) never puts back the rows the clear removes; only states the
   * shape reaches afterwards are written again.
   */
  cleared(): void {
    this.#cancelPendingWrite()
    const shape = this.#shape
    if (shape === undefined) return
    const { handle, offset, lastSyncedAt } = shape.getStatus()
    this.#written = { handle, offset, snapshot: shape.getSyncedSnapshot() as ShapeSnapshot<unknown>, lastSyncedAt }
  }

  #cancelPendingWrite(): void {
    const armed = this.#writeTimer
    if (armed === undefined) return
    if (armed.handle !== undefined) this.#persister.clock.clearTimeout(armed.handle)
    this.#writeTimer = undefined
  }

  readonly #changed = (): void => {
    if (this.#seeding || this.#disabled || this.#writeTimer !== undefined || this.#persister.warning !== undefined) return
    const shape = this.#shape
    if (shape === undefined || this.#isWritten(shape)) return
    this.#persister.track(this as PersistedShape<unknown>, true)
    const clock = this.#persister.clock
    const delay = this.#lastWriteAt + this.#gapMs - clock.now()
    const armed: { handle: TimerHandle | undefined } = { handle: undefined }
    const fire = (): void => {
      if (this.#writeTimer !== armed) return
      this.#writeTimer = undefined
      this.#write()
    }
    this.#writeTimer = armed
    // Due now: after the publish and the stream's state change that completes it, before the caller continues.
    if (delay <= 0) queueMicrotask(fire)
    else armed.handle = clock.setTimeout(fire, delay)
  }

  /** True when storage holds the shape's rows and position (and, with `syncTime`, its `lastSyncedAt` too). */
  #isWritten(shape: Shape<T>, syncTime = false): boolean {
    const written = this.#written
    const status = shape.getStatus()
    if (written === undefined || written.snapshot !== shape.getSyncedSnapshot()) return false
    if (written.handle !== status.handle || written.offset !== status.offset) return false
    return !syncTime || written.lastSyncedAt === status.lastSyncedAt
  }

  #write(syncTime = false): void {
    const shape = this.#shape
    if (shape === undefined || this.#disabled || this.#persister.warning !== undefined) return
    const state = shape.getHydrationState()
    if (state === undefined || this.#isWritten(shape, syncTime)) return
    const now = this.#persister.clock.now()
    let text: string
    try {
      text = writeEntry(state, { definition: this.#definition, buster: this.#persister.buster, savedAt: now })
    } catch (error) {
      this.#disabled = true
      this.#warning = `Persistence is off for ${this.#label}: ${error instanceof Error ? error.message : String(error)}`
      console.warn(`[live-shapes] ${this.#warning}`)
      this.#bump()
      return
    }
    this.#lastWriteAt = now
    this.#gapMs = Math.max(this.#persister.throttleMs, 10 * (this.#persister.clock.now() - now))
    const snapshot = shape.getSyncedSnapshot() as ShapeSnapshot<unknown>
    this.#written = { handle: state.handle, offset: state.offset, snapshot, lastSyncedAt: state.lastSyncedAt }
    void this.#persister.write(this.key, text)
  }

  #apply(text: string | null | undefined): void {
    const shape = this.#shape
    if (typeof text !== 'string' || shape === undefined) return
    const now = this.#persister.clock.now()
    const read = readEntry<T>(text, { definition: this.#definition, buster: this.#persister.buster, maxAgeMs: this.#persister.maxAgeMs, now })
    if (read.kind === 'drop') {
      console.warn(`[live-shapes] Dropped the persisted ${this.#label}: ${read.reason}`)
      void this.#persister.remove(this.key)
      return
    }
    this.#seeding = true
    let seeded: boolean
    try {
      seeded = shape.hydrate(read.state)
    } finally {
      this.#seeding = false
    }
    if (!seeded) return
    this.#seeded = shape.getSyncedSnapshot()
    const { handle, offset, lastSyncedAt } = read.state
    this.#written = { handle, offset, snapshot: this.#seeded as ShapeSnapshot<unknown>, lastSyncedAt }
    this.#source = 'cache'
    this.#answered = false
    this.#cacheAgeMs = Math.max(0, now - (read.state.lastSyncedAt ?? read.savedAt))
    this.#bump()
  }

  #readFailed(error: unknown): void {
    this.#warning = `Could not read the persisted ${this.#label}: ${error instanceof Error ? error.message : String(error)}`
    console.warn(`[live-shapes] ${this.#warning}`)
    this.#bump()
  }

  #confirm(): void {
    if (this.#source !== 'cache' || !this.#answered || this.#shape?.getStatus().phase === 'refetching') return
    this.#toNetwork()
  }

  #toNetwork(): void {
    this.#source = 'network'
    this.#seeded = undefined
    this.#cacheAgeMs = undefined
    this.#bump()
  }

  #bump(): void {
    this.#version++
    for (const listener of [...this.#listeners]) listener()
  }
}

function isThenable<V>(value: V | Promise<V>): value is Promise<V> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
