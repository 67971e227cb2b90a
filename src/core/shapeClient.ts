/**
 * The registry of shapes of one client instance: equal definitions share one `Shape`, unused shapes are evicted.
 *
 * Invariants:
 * - No module-level state: the registry, the reference ids of functions and the timers belong to the instance
 *   (one client per request on a server, so users never share rows).
 * - The constructor checks its own options before it keeps any of them: a value of the wrong kind (a `fetch` that is
 *   not a function, a negative `gracePeriodMs`, `null` for the options) is an `InvalidOptionsError` naming the option,
 *   never a TypeError later from inside a request or a timer.
 * - `shape()` validates options synchronously and returns the registered shape for an equal key (`shapeKey`).
 * - A shape leaves the registry when it closes (grace period elapsed, never retained within
 *   `unusedTimeoutMs`, or `dispose`), so nothing accumulates.
 * - After `dispose()` no request, timer or listener of this client remains, and `shape()` throws.
 * - A shape's requests (stream, SSE, subset snapshots) go through its `fetchClient` when it has one, else the
 *   client's `fetch`; the stream's are observed for `retry-after` and persistence either way.
 * - `@electric-sql/client` names are read as ours before a shape is keyed (electricOptions.ts); the warnings about
 *   the ones with no effect are this instance's, once per option name.
 * - A `retry-after` a shape's stream heard holds back the next stream of the same key too (retryAfterHold.ts).
 * - With `persist`, each shape whose definition can be persisted gets its `PersistedShape` before it is returned, so
 *   a synchronous storage has seeded it already and an async one holds its first request (src/core/persist).
 */
import { fromElectricOptions } from './electricOptions'
import { forwardFunctions } from './functionForwarders'
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { LiveRunnerFactory } from './liveRunner'
import type { Row } from './protocol'
import type { ShapeOptions } from './shapeOptions'
import type { StreamStart } from './streamState'
import type { ConnectivityAdapter } from './connectivity'
import type { VisibilityAdapter } from './visibility'
import type { PersistOptions } from './persist/shapePersister'
import { realClock } from './clock'
import { invalidOption, InvalidOptionsError } from './errors'
import { defaultFetch } from './fetchLike'
import { Shape } from './shape'
import { ReferenceIds, shapeKey } from './shapeKey'
import { validateShapeOptions } from './shapeOptions'
import { ShapeStore } from './shapeStore'
import { ShapeStream } from './shapeStream'
import { lazySseRunner } from './lazySseRunner'
import { browserConnectivity } from './connectivity'
import { browserVisibility } from './visibility'
import { ShapePersister } from './persist/shapePersister'
import { SnapshotSink } from './snapshotSink'
import { RetryAfterHolds } from './retryAfterHold'
import type { SubsetSnapshot, SubsetSnapshotRequest } from './subsetSnapshot'
import type { Yielder } from './yielder'

/**
 * Dependencies and defaults shared by the shapes of one client.
 * @example
 * const client = new ShapeClient({ gracePeriodMs: 5000, liveSse: true, visibility: null })
 */
export interface ShapeClientOptions {
  fetch?: FetchLike
  clock?: Clock
  random?: () => number
  /** Delay between the last release and closing the stream, default 3000 ms. */
  gracePeriodMs?: number | undefined
  /**
   * How long a shape that no subscriber retains stays registered (a render React abandoned, a hydrated shape no
   * component used), default 30 000 ms and never less than `gracePeriodMs`.
   */
  unusedTimeoutMs?: number | undefined
  /** Default of `ShapeOptions.liveSse`. */
  liveSse?: boolean | undefined
  /** Builds the live runner used when `liveSse` is on; default `lazySseRunner` (`sseRunner`, loaded on first use). */
  liveRunner?: LiveRunnerFactory
  /** Page visibility; `null` disables pausing; default: the browser's, when there is a `document`. */
  visibility?: VisibilityAdapter | null
  /**
   * Keep up-to-date shapes in `storage`, so a reload shows their rows at once and resumes live from their offset
   * (see `PersistOptions` and README "Persistence").
   */
  persist?: PersistOptions
  /**
   * `online` / `focus` end a backoff wait at once and `status.offline` follows `navigator.onLine`; `null` disables;
   * default (also for `undefined`, which `browserConnectivity()` returns where there is nothing to listen to): the
   * browser's (or worker's), where there is one.
   */
  connectivity?: ConnectivityAdapter | null | undefined
  /**
   * Paces the initial sync: a large snapshot is parsed and staged in slices with the event loop running between
   * them, so no task blocks the main thread for more than about one frame. Default: one `createYielder()` per
   * shape; `() => neverYield` reads every body in one go.
   */
  yielder?: () => Yielder
}

/**
 * A shape client: create one per app (or per server request) and share it.
 * @example
 * const client = new ShapeClient()
 * const shape = client.shape({ url: 'http://localhost:3000/v1/shape', params: { table: 'items' } })
 */
export class ShapeClient {
  readonly #shapes = new Map<string, Shape<unknown>>()
  readonly #ids = new ReferenceIds()
  readonly #fetch: FetchLike
  readonly #clock: Clock
  readonly #yielder: (() => Yielder) | undefined
  readonly #random: () => number
  readonly #gracePeriodMs: number
  readonly #unusedTimeoutMs: number
  readonly #liveSse: boolean
  readonly #liveRunner: LiveRunnerFactory
  readonly #visibility: VisibilityAdapter | undefined
  readonly #persister: ShapePersister | undefined
  readonly #connectivity: ConnectivityAdapter | undefined
  readonly #retryAfterHolds: RetryAfterHolds
  readonly #warned = new Set<string>()
  #disposed = false

  constructor(options: ShapeClientOptions = {}) {
    validateClientOptions(options)
    this.#fetch = options.fetch ?? defaultFetch
    this.#clock = options.clock ?? realClock
    this.#yielder = options.yielder
    this.#random = options.random ?? Math.random
    this.#gracePeriodMs = options.gracePeriodMs ?? 3000
    this.#unusedTimeoutMs = Math.max(options.unusedTimeoutMs ?? 30_000, this.#gracePeriodMs)
    this.#liveSse = options.liveSse ?? false
    this.#liveRunner = options.liveRunner ?? lazySseRunner
    this.#visibility = options.visibility === null ? undefined : (options.visibility ?? browserVisibility())
    this.#persister = options.persist === undefined ? undefined : new ShapePersister(options.persist, this.#clock)
    this.#connectivity = options.connectivity === null ? undefined : (options.connectivity ?? browserConnectivity())
    this.#retryAfterHolds = new RetryAfterHolds(this.#clock)
  }

  /** Number of registered (open or in grace period) shapes. */
  get size(): number {
    return this.#shapes.size
  }

  /**
   * The shared shape for `options`. Throws `InvalidOptionsError` / `ReservedParamError` on bad options.
   * @example
   * client.shape({ url, params: { table: 'items' } }) === client.shape({ url, params: { table: 'items' } }) // true
   */
  shape<T = Row>(options: ShapeOptions<T>, from?: StreamStart): Shape<T> {
    if (this.#disposed) throw new InvalidOptionsError('This ShapeClient was disposed')
    validateShapeOptions(options as ShapeOptions<unknown>)
    options = fromElectricOptions(options, this.#warned)
    const key = shapeKey(options as ShapeOptions<unknown>, this.#ids)
    const existing = this.#shapes.get(key)
    if (existing) return existing as Shape<T>
    // Keyed by the functions as given; used through forwarders the hooks can point at a later render's functions.
    const forwarded = forwardFunctions(options)
    options = forwarded.options
    const store = new ShapeStore<T>({ now: () => this.#clock.now(), ...(options.log === undefined ? {} : { log: options.log }) })
    const sink = new SnapshotSink(store)
    const useSse = options.liveSse ?? this.#liveSse
    const persistence = this.#persister?.open(options)
    const retryAfterHold = this.#retryAfterHolds.of(key)
    const base = options.fetchClient ?? this.#fetch
    const fetch = retryAfterHold.observe(persistence ? persistence.observe(base) : base)
    const stream = new ShapeStream<T>({
      ...options,
      store: sink,
      fetch,
      clock: this.#clock,
      random: this.#random,
      visibility: this.#visibility,
      connectivity: this.#connectivity,
      liveRunner: useSse ? this.#liveRunner({ fetch, clock: this.#clock, random: this.#random }) : undefined,
      from,
      yielder: this.#yielder?.(),
      retryAfterHold,
    })
    const shape = new Shape<T>({
      definitionKey: key,
      options,
      store,
      stream,
      clock: this.#clock,
      gracePeriodMs: this.#gracePeriodMs,
      unusedTimeoutMs: this.#unusedTimeoutMs,
      onClose: (closed) => {
        if (this.#shapes.get(closed.definitionKey) === closed) this.#shapes.delete(closed.definitionKey)
      },
      // Loaded on the first `requestSnapshot`, so apps that never load subsets do not ship the code up front.
      loadSubsets: () => import('./shapeSubsets').then(({ ShapeSubsets }) => new ShapeSubsets(sink, base, options)),
      onReopen: (reopened) => {
        if (this.#disposed) throw new InvalidOptionsError('This ShapeClient was disposed')
        if (!this.#shapes.has(reopened.definitionKey)) this.#shapes.set(reopened.definitionKey, reopened as Shape<unknown>)
      },
      persistence,
      forwarders: forwarded.forwarders,
    })
    this.#shapes.set(key, shape as Shape<unknown>)
    // A shape created by hydration shows the server's rows first, never a stored entry (persistedShape.ts).
    persistence?.attach(shape, from === undefined)
    return shape
  }

  /**
   * Removes every persisted shape of this client's `persist.namespace` from storage (logout). Shapes still running
   * persist their later states again: dispose the client (or unmount) first. Resolves once storage removed them.
   * @example
   * client.dispose()
   * await client.clearPersisted()
   */
  clearPersisted(): Promise<void> {
    return this.#persister ? this.#persister.clear() : Promise.resolve()
  }

  /**
   * Writes what the persistence throttle still holds, now, and resolves once storage has it (before a navigation
   * the page-hide flush does not cover, or in tests).
   * @example
   * await client.flushPersisted()
   */
  flushPersisted(): Promise<void> {
    return this.#persister ? this.#persister.flush() : Promise.resolve()
  }

  /**
   * A page of the rows of the shape `options` describes (a subset snapshot), without creating or touching a shape:
   * the server resolves the shape by its definition. Rejects with the request's typed error.
   * @example
   * const { data } = await client.fetchSnapshot<Todo>({ url, params: { table: 'todos' } }, { orderBy: 'id DESC', limit: 5 })
   */
  async fetchSnapshot<T = Row>(
    options: ShapeOptions<T>,
    subset: SubsetSnapshotRequest,
    control: { signal?: AbortSignal } = {},
  ): Promise<SubsetSnapshot<T>> {
    if (this.#disposed) throw new InvalidOptionsError('This ShapeClient was disposed')
    validateShapeOptions(options as ShapeOptions<unknown>)
    const { fetchSubset } = await import('./subsetSnapshot')
    const fetched = await fetchSubset({ fetch: options.fetchClient ?? this.#fetch, options, subset, position: { handle: undefined, offset: '-1' }, signal: control.signal })
    return { data: fetched.data, metadata: fetched.metadata }
  }

  /**
   * The registered shape for `options`, without creating one (hydration decides what to do with existing shapes).
   * @example
   * client.find({ url, params: { table: 'items' } }) // undefined until client.shape() created it
   */
  find<T = Row>(options: ShapeOptions<T>): Shape<T> | undefined {
    validateShapeOptions(options as ShapeOptions<unknown>)
    return this.#shapes.get(shapeKey(fromElectricOptions(options, this.#warned) as ShapeOptions<unknown>, this.#ids)) as Shape<T> | undefined
  }

  /**
   * The registered shapes (open or in their grace period), in creation order; what `dehydrate` walks.
   * @example
   * client.getShapes().filter((shape) => shape.getStatus().isUpToDate)
   */
  getShapes(): readonly Shape<unknown>[] {
    return [...this.#shapes.values()]
  }

  /** Closes every shape now and refuses new ones. */
  dispose(): void {
    this.#disposed = true
    for (const shape of [...this.#shapes.values()]) shape.close()
    this.#shapes.clear()
    this.#persister?.dispose()
  }
}

/** The type each injectable option must have when set (`persist` is checked by `ShapePersister`). */
const OPTION_TYPES: Readonly<Partial<Record<keyof ShapeClientOptions, string>>> = {
  fetch: 'function',
  random: 'function',
  yielder: 'function',
  liveRunner: 'function',
  gracePeriodMs: 'number',
  unusedTimeoutMs: 'number',
  liveSse: 'boolean',
  clock: 'object',
  visibility: 'object',
  connectivity: 'object',
}

/** The constructor's check (see the invariants above): one `typeof` per option, durations ≥ 0, no `null` clock. */
function validateClientOptions(options: ShapeClientOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('ShapeClient options', 'an object', options)
  for (const [name, type] of Object.entries(OPTION_TYPES)) {
    const value: unknown = options[name as keyof ShapeClientOptions]
    if (value === undefined) continue
    const wrong = typeof value !== type || (type === 'number' && !((value as number) >= 0)) || (name === 'clock' && value === null)
    if (wrong) throw invalidOption(`ShapeClient option "${name}"`, type === 'number' ? 'a number ≥ 0' : type === 'object' ? 'an object' : `a ${type}`, value)
  }
}
