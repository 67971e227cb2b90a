/**
 * The registry of shapes of one client instance: equal definitions share one `Shape`, unused shapes are evicted.
 *
 * Invariants:
 * - CL1. No module-level state: the registry, the reference ids of functions and the timers belong to the instance
 *   (one client per request on a server, so users never share rows).
 * - CL2. `shape()` validates options synchronously and returns the registered shape for an equal key (`shapeKey`).
 * - CL3. A shape leaves the registry when it closes (grace period elapsed, never retained within
 *   `unusedTimeoutMs`, or `dispose`), so nothing accumulates.
 * - CL4. After `dispose()` no request, timer or listener of this client remains, and `shape()` throws.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { LiveRunnerFactory } from './liveRunner'
import type { Row } from './protocol'
import type { ShapeOptions } from './shapeOptions'
import type { StreamStart } from './streamState'
import type { ConnectivityAdapter } from './connectivity'
import type { VisibilityAdapter } from './visibility'
import { realClock } from './clock'
import { InvalidOptionsError } from './errors'
import { defaultFetch } from './fetchLike'
import { Shape } from './shape'
import { ReferenceIds, shapeKey } from './shapeKey'
import { validateShapeOptions } from './shapeOptions'
import { ShapeStore } from './shapeStore'
import { ShapeStream } from './shapeStream'
import { lazySseRunner } from './lazySseRunner'
import { browserConnectivity } from './connectivity'
import { browserVisibility } from './visibility'

/** Dependencies and defaults shared by the shapes of one client. */
export interface ShapeClientOptions {
  fetch?: FetchLike
  clock?: Clock
  random?: () => number
  /** Delay between the last release and closing the stream, default 3000 ms. */
  gracePeriodMs?: number
  /**
   * How long a shape that no subscriber retains stays registered (a render React abandoned, a hydrated shape no
   * component used), default 30 000 ms and never less than `gracePeriodMs`.
   */
  unusedTimeoutMs?: number
  /** Default of `ShapeOptions.liveSse`. */
  liveSse?: boolean
  /** Builds the live runner used when `liveSse` is on; default `lazySseRunner` (`sseRunner`, loaded on first use). */
  liveRunner?: LiveRunnerFactory
  /** Page visibility; `null` disables pausing; default: the browser's, when there is a `document`. */
  visibility?: VisibilityAdapter | null
  /**
   * `online` / `focus` end a backoff wait at once and `status.offline` follows `navigator.onLine`; `null` disables;
   * default: the browser's (or worker's), where there is one.
   */
  connectivity?: ConnectivityAdapter | null
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
  readonly #random: () => number
  readonly #gracePeriodMs: number
  readonly #unusedTimeoutMs: number
  readonly #liveSse: boolean
  readonly #liveRunner: LiveRunnerFactory
  readonly #visibility: VisibilityAdapter | undefined
  readonly #connectivity: ConnectivityAdapter | undefined
  #disposed = false

  constructor(options: ShapeClientOptions = {}) {
    this.#fetch = options.fetch ?? defaultFetch
    this.#clock = options.clock ?? realClock
    this.#random = options.random ?? Math.random
    this.#gracePeriodMs = options.gracePeriodMs ?? 3000
    this.#unusedTimeoutMs = Math.max(options.unusedTimeoutMs ?? 30_000, this.#gracePeriodMs)
    this.#liveSse = options.liveSse ?? false
    this.#liveRunner = options.liveRunner ?? lazySseRunner
    this.#visibility = options.visibility === null ? undefined : (options.visibility ?? browserVisibility())
    this.#connectivity = options.connectivity === null ? undefined : (options.connectivity ?? browserConnectivity())
  }

  /** Number of registered (open or in grace period) shapes. */
  get size(): number {
    return this.#shapes.size
  }

  /**
   * The shared shape for `options` (CL2). Throws `InvalidOptionsError` / `ReservedParamError` on bad options.
   * @example
   * client.shape({ url, params: { table: 'items' } }) === client.shape({ url, params: { table: 'items' } }) // true
   */
  shape<T = Row>(options: ShapeOptions<T>, from?: StreamStart): Shape<T> {
    if (this.#disposed) throw new InvalidOptionsError('This ShapeClient was disposed')
    validateShapeOptions(options as ShapeOptions<unknown>)
    const key = shapeKey(options as ShapeOptions<unknown>, this.#ids)
    const existing = this.#shapes.get(key)
    if (existing) return existing as Shape<T>
    const store = new ShapeStore<T>({ now: () => this.#clock.now() })
    const useSse = options.liveSse ?? this.#liveSse
    const stream = new ShapeStream<T>({
      ...options,
      store,
      fetch: this.#fetch,
      clock: this.#clock,
      random: this.#random,
      visibility: this.#visibility,
      connectivity: this.#connectivity,
      liveRunner: useSse ? this.#liveRunner({ fetch: this.#fetch, clock: this.#clock, random: this.#random }) : undefined,
      from,
    })
    const shape = new Shape<T>({
      key,
      options,
      store,
      stream,
      clock: this.#clock,
      gracePeriodMs: this.#gracePeriodMs,
      unusedTimeoutMs: this.#unusedTimeoutMs,
      onClose: (closed) => {
        if (this.#shapes.get(closed.key) === closed) this.#shapes.delete(closed.key)
      },
      onReopen: (reopened) => {
        if (this.#disposed) throw new InvalidOptionsError('This ShapeClient was disposed')
        if (!this.#shapes.has(reopened.key)) this.#shapes.set(reopened.key, reopened as Shape<unknown>)
      },
    })
    this.#shapes.set(key, shape as Shape<unknown>)
    return shape
  }

  /**
   * The registered shape for `options`, without creating one (hydration decides what to do with existing shapes).
   * @example
   * client.find({ url, params: { table: 'items' } }) // undefined until client.shape() created it
   */
  find<T = Row>(options: ShapeOptions<T>): Shape<T> | undefined {
    validateShapeOptions(options as ShapeOptions<unknown>)
    return this.#shapes.get(shapeKey(options as ShapeOptions<unknown>, this.#ids)) as Shape<T> | undefined
  }

  /**
   * The registered shapes (open or in their grace period), in creation order; what `dehydrate` walks.
   * @example
   * client.getShapes().filter((shape) => shape.getStatus().isUpToDate)
   */
  getShapes(): readonly Shape<unknown>[] {
    return [...this.#shapes.values()]
  }

  /** Closes every shape now and refuses new ones (CL4). */
  dispose(): void {
    this.#disposed = true
    for (const shape of [...this.#shapes.values()]) shape.close()
    this.#shapes.clear()
  }
}
