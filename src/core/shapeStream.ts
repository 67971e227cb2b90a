/**
 * Drives the protocol: requests (long-poll or a live runner) → state transitions → parsed batches into a store.
 *
 * Invariants:
 * - D1. One request at a time per stream; each request or backoff sleep has its own AbortController, aborted by
 *   pause, stop and the user's signal, so nothing (request, timer, listener) outlives `stop()`.
 * - D2. A batch is parsed completely before the store sees it; any error leaves the store untouched (errors.ts E2;
 *   staging and its undo: responseApplier.ts RA1–RA4).
 * - D3. 409: nothing parsed, `store.reset()`, state back to `-1` with the new handle, retried at once (no backoff).
 * - D4. Retryable errors back off without calling `onError`; other errors go to `onError`, which may return new
 *   headers/params (merged) to retry from the same position, within the bounds of `RetryPolicy`.
 * - D5. Status objects change only through `#dispatch`, so listeners see each state once, in order.
 * - D6. A request is never repeated at once without progress: what responseApplier.ts RA4 refuses is a retryable
 *   error (backoff), never a hot loop.
 * - D7. A live long-poll unanswered after `liveRequestTimeoutMs` is aborted and retried as a `NetworkError`
 *   (liveDeadline.ts W1–W2).
 * - D8. The status reflects the starting position from construction (a hydrated stream is `idle` yet up to date,
 *   with its `lastSyncedAt`), so a server render and a hydrating client derive the same status. `restartFrom` sets a
 *   new starting position only while stopped, as if the stream had been built with it.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { LiveRequestRunner } from './liveRunner'
import type { LongPollResult } from './longPollTransport'
import type { Row } from './protocol'
import type { ResponseReading, StreamSink } from './responseApplier'
import type { HeadersInput, ShapeParamsInput } from './requestUrl'
import type { ErrorRecovery, ShapeOptions } from './shapeOptions'
import type { LiveTransport, ShapeStatus } from './shapeStatus'
import type { StreamEvent, StreamStart, StreamState } from './streamState'
import type { VisibilityAdapter } from './visibility'
import { abortReason, realClock, sleep } from './clock'
import { InvalidOptionsError, ShapeError } from './errors'
import { defaultFetch } from './fetchLike'
import { withLiveDeadline } from './liveDeadline'
import { longPollRequest } from './longPollTransport'
import { ResponseApplier } from './responseApplier'
import { buildRequestUrl, resolveRequestInputs } from './requestUrl'
import { RetryPolicy } from './retryPolicy'
import { validateShapeOptions } from './shapeOptions'
import { deriveStatus, IDLE_STATUS } from './shapeStatus'
import { initialStreamState, requestPosition, transition } from './streamState'
import { createYielder } from './yielder'
import type { Yielder } from './yielder'

export type { StreamSink } from './responseApplier'

/** Options of a `ShapeStream`: the shape's options plus its dependencies. */
export interface ShapeStreamOptions<T> extends ShapeOptions<T> {
  store: StreamSink<T>
  fetch?: FetchLike | undefined
  clock?: Clock | undefined
  random?: (() => number) | undefined
  /** Aborting it stops the stream for good. */
  signal?: AbortSignal | undefined
  visibility?: VisibilityAdapter | undefined
  /** Used for live requests while it is enabled (e.g. SSE); long-poll otherwise. */
  liveRunner?: LiveRequestRunner | undefined
  /** Resume from a known position (hydration). */
  from?: StreamStart | undefined
  /**
   * A live long-poll without any answer for this long is abandoned and retried (a dead connection the platform has
   * not noticed; the server answers within 20 s). Default 45 000 ms; 0 disables.
   */
  liveRequestTimeoutMs?: number | undefined
  /** Paces the reading of large snapshot bodies so no task blocks the main thread for long (default `createYielder()`). */
  yielder?: Yielder | undefined
}

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

const DEFAULT_LIVE_REQUEST_TIMEOUT_MS = 45_000

/**
 * Why the stream cancels its own requests (stop, pause). A constant: callers check `signal.aborted`, never the
 * reason, and `abort()` without one builds a `DOMException` with a stack on every stop.
 */
const CANCELLED = Object.freeze({ name: 'AbortError', message: 'Cancelled by the shape stream' })

/**
 * One shape's protocol client.
 * @example
 * const stream = new ShapeStream({ url, params: { table: 'items' }, store: new ShapeStore({ now: Date.now }) })
 * stream.start()
 * await stream.whenUpToDate()
 */
export class ShapeStream<T = Row> {
  readonly #options: ShapeStreamOptions<T>
  readonly #applier: ResponseApplier<T>
  readonly #fetch: FetchLike
  readonly #clock: Clock
  readonly #random: () => number
  readonly #retry: RetryPolicy
  readonly #runner: LiveRequestRunner | undefined
  readonly #yielder: Yielder
  readonly #statusListeners = new Set<() => void>()
  #waiters: Waiter[] = []
  #state: StreamState
  #status: ShapeStatus = IDLE_STATUS
  #transport: LiveTransport = 'long-poll'
  #headers: HeadersInput | undefined
  #params: ShapeParamsInput
  #generation = 0
  #iteration: AbortController | undefined
  #wakeResume: (() => void) | undefined
  #unsubscribeVisibility: (() => void) | undefined
  #disposed = false

  constructor(options: ShapeStreamOptions<T>) {
    this.#options = options
    const { parser, columnMapper, transformer, lazyJson } = options
    this.#applier = new ResponseApplier(options.store, {
      ...(lazyJson === true ? { lazyJson } : {}),
      ...(parser ? { parser } : {}),
      ...(columnMapper ? { columnMapper } : {}),
      ...(transformer ? { transformer } : {}),
    })
    this.#fetch = options.fetch ?? defaultFetch
    this.#clock = options.clock ?? realClock
    this.#random = options.random ?? Math.random
    this.#retry = new RetryPolicy(options.backoff ?? {}, this.#random)
    this.#runner = options.liveRunner
    this.#yielder = options.yielder ?? createYielder()
    this.#headers = options.headers
    this.#params = options.params
    this.#state = initialStreamState(options.from)
    validateShapeOptions(options as ShapeOptions<unknown>)
    // Before the first request the status already names the live transport that will be used (what an SSR page
    // renders must match what the browser shows once it runs).
    if (this.#runner?.isEnabled()) this.#transport = this.#runner.transport
    this.#status = deriveStatus(IDLE_STATUS, this.#state, {
      transport: this.#transport,
      fallbackReason: this.#runner?.fallbackReason(),
    })
  }

  /**
   * Replaces the starting position of a stopped stream (hydration of a shape that exists but never ran, D8).
   * Returns false, changing nothing, while the stream runs: a running stream's position is the truth.
   */
  restartFrom(from: StreamStart): boolean {
    if (this.#state.phase !== 'stopped') return false
    this.#state = initialStreamState(from)
    this.#applier.forgetParser()
    this.#refreshStatus()
    return true
  }

  /** The current protocol state (immutable). */
  getState(): StreamState {
    return this.#state
  }

  /** The current status; the same object until something changed. */
  getStatus(): ShapeStatus {
    return this.#status
  }

  /** Calls `listener` after every status change. */
  subscribeStatus(listener: () => void): () => void {
    this.#statusListeners.add(listener)
    return () => {
      this.#statusListeners.delete(listener)
    }
  }

  /** Resolves at the next (or a past) up-to-date; rejects when the stream stops on an error or is stopped. */
  whenUpToDate(): Promise<void> {
    if (this.#state.caughtUp) return Promise.resolve()
    if (this.#state.phase === 'error') return Promise.reject(this.#state.error)
    if (this.#disposed) return Promise.reject(new DOMException('The shape stream was aborted', 'AbortError'))
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Starts (or restarts, resuming from the last position with a catch-up request). No-op while running. */
  start(): void {
    if (this.#options.signal?.aborted) this.#disposed = true
    if (this.#disposed || this.#state.phase !== 'stopped') return
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true })
    this.#dispatch({ type: 'start' })
    const visibility = this.#options.visibility
    if (visibility) {
      this.#unsubscribeVisibility = visibility.subscribe(() => {
        if (visibility.isHidden()) this.#pause()
        else this.#resume()
      })
    }
    const generation = ++this.#generation
    void this.#loop(generation)
  }

  /** Stops at once: aborts the request or backoff sleep in flight, removes listeners and timers (D1). */
  stop(): void {
    if (this.#state.phase === 'stopped') return
    this.#generation++
    this.#dispatch({ type: 'stop' })
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#unsubscribeVisibility?.()
    this.#unsubscribeVisibility = undefined
    this.#iteration?.abort(CANCELLED)
    // Settled now, not when the aborted read unwinds: the store is as before the response at once (RA3).
    this.#applier.discard()
    this.#wakeResume?.()
    if (this.#waiters.length > 0) this.#rejectWaiters(new DOMException('The shape stream was stopped', 'AbortError'))
  }

  readonly #onAbort = (): void => {
    this.#disposed = true
    this.stop()
  }

  #pause(): void {
    if (this.#state.phase === 'stopped' || this.#state.phase === 'paused' || this.#state.phase === 'error') return
    this.#dispatch({ type: 'pause' })
    this.#iteration?.abort(CANCELLED)
    this.#applier.discard()
  }

  #resume(): void {
    if (this.#state.phase !== 'paused') return
    this.#dispatch({ type: 'resume' })
    this.#wakeResume?.()
  }

  async #loop(generation: number): Promise<void> {
    while (generation === this.#generation) {
      const phase = this.#state.phase
      if (phase === 'error' || phase === 'stopped') return
      if (phase === 'paused') {
        await new Promise<void>((resolve) => (this.#wakeResume = resolve))
        this.#wakeResume = undefined
        continue
      }
      const controller = new AbortController()
      this.#iteration = controller
      try {
        await this.#step(controller.signal)
      } catch (error) {
        if (!controller.signal.aborted) {
          await this.#recover(toShapeError(error), controller.signal).catch((sleepError: unknown) => {
            if (!controller.signal.aborted) throw sleepError
          })
        }
      } finally {
        if (this.#iteration === controller) this.#iteration = undefined
      }
    }
  }

  async #step(signal: AbortSignal): Promise<void> {
    const position = requestPosition(this.#state)
    const inputs = await resolveRequestInputs(this.#headers, this.#params).catch((cause: unknown) => {
      throw cause instanceof ShapeError
        ? cause
        : new InvalidOptionsError(`A headers or params function failed: ${describe(cause)}`, { cause })
    })
    if (signal.aborted) throw abortReason(signal)
    const enabled = this.#runner?.isEnabled() ? this.#runner : undefined
    // The status names the live transport, which does not change for the non-live requests in between.
    this.#transport = enabled ? enabled.transport : 'long-poll'
    this.#refreshStatus()
    const runner = position.live ? enabled : undefined
    const url = buildRequestUrl({
      url: this.#options.url,
      params: inputs.params,
      log: this.#options.log ?? 'full',
      position,
      encodeColumn: this.#options.columnMapper ? (name) => this.#options.columnMapper!.encode(name) : undefined,
      extraParams: runner?.extraParams,
    })
    if (runner) return this.#runLive(runner, url, inputs.headers, signal)
    const reading = this.#applier.begin(this.#state, signal)
    try {
      const result = await this.#longPoll(url, inputs.headers, position.live, signal, reading)
      if (signal.aborted) throw abortReason(signal)
      if (result.kind === 'must-refetch') return this.#mustRefetch(result.handle)
      const event =
        result.kind === 'not-modified'
          ? this.#applier.notModified(result, position, url, this.#clock.now())
          : this.#applier.applyResponse(reading, result, position, url, () => this.#clock.now())
      this.#retry.succeeded()
      this.#dispatch(event)
    } catch (error) {
      // Whatever this response staged is undone: a failed response leaves the store as it was (E2, RA3).
      this.#applier.discard()
      throw error
    }
  }

  async #longPoll(
    url: string,
    headers: Record<string, string>,
    live: boolean,
    signal: AbortSignal,
    reading: ResponseReading<T>,
  ): Promise<LongPollResult> {
    const fetch = this.#fetch
    if (!live) return longPollRequest({ url, headers, live, signal, fetch, stage: (meta) => reading.stager(meta), yielder: this.#yielder })
    const timeoutMs = this.#options.liveRequestTimeoutMs ?? DEFAULT_LIVE_REQUEST_TIMEOUT_MS
    if (timeoutMs <= 0) return longPollRequest({ url, headers, live, signal, fetch })
    return withLiveDeadline(this.#clock, timeoutMs, url, signal, (deadline) => longPollRequest({ url, headers, live, signal: deadline, fetch }))
  }

  async #runLive(runner: LiveRequestRunner, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
    let failure: unknown
    const connection = new AbortController()
    const forward = (): void => connection.abort(signal.reason)
    signal.addEventListener('abort', forward, { once: true })
    try {
      const end = await runner.run(
        { url, headers, signal: connection.signal, fetch: this.#fetch },
        {
          onOpen: (meta) => {
            if (failure !== undefined || connection.signal.aborted) return
            this.#retry.succeeded()
            const { handle, offset, cursor } = meta
            this.#dispatch({ type: 'response', handle, offset, cursor, schema: undefined, upToDate: false, now: this.#clock.now() })
          },
          onBatch: (batch) => {
            if (failure !== undefined || connection.signal.aborted) return
            try {
              const event = this.#applier.applyLive(this.#state, batch, () => this.#clock.now())
              this.#retry.succeeded()
              this.#dispatch(event)
            } catch (error) {
              failure = error
              connection.abort(CANCELLED)
            }
          },
        },
      )
      if (failure !== undefined) throw failure
      if (signal.aborted) throw abortReason(signal)
      if (end.kind === 'must-refetch') this.#mustRefetch(end.handle)
    } catch (error) {
      throw failure ?? error
    } finally {
      signal.removeEventListener('abort', forward)
      this.#refreshStatus()
    }
  }

  #mustRefetch(handle: string | undefined): void {
    this.#applier.reset()
    this.#runner?.onReset?.()
    const cacheBuster = `${this.#clock.now()}-${Math.floor(this.#random() * 1e9).toString(36)}`
    this.#dispatch({ type: 'must-refetch', handle, cacheBuster })
  }

  async #recover(failure: ShapeError, signal: AbortSignal): Promise<void> {
    const decision = this.#retry.afterFailure(failure, this.#clock.now())
    if (decision.kind === 'backoff') {
      this.#dispatch({ type: 'retryable-error', error: failure, nextRetryAt: this.#clock.now() + decision.delayMs })
      await sleep(this.#clock, decision.delayMs, signal)
      this.#dispatch({ type: 'retry' })
      return
    }
    const error = decision.error
    this.#dispatch({ type: 'fatal-error', error })
    const generation = this.#generation
    const recovery = await this.#askOnError(error)
    if (generation !== this.#generation || signal.aborted) return
    const delayMs = recovery === undefined ? undefined : this.#retry.recoveryDelay(error)
    if (recovery === undefined || delayMs === undefined) {
      this.#rejectWaiters(error)
      return
    }
    if (recovery.headers) this.#headers = { ...this.#headers, ...recovery.headers }
    if (recovery.params) this.#params = { ...this.#params, ...recovery.params } as ShapeParamsInput
    this.#dispatch({ type: 'retry' })
    await sleep(this.#clock, delayMs, signal)
  }

  async #askOnError(error: ShapeError): Promise<ErrorRecovery | undefined> {
    const onError = this.#options.onError
    if (!onError) return undefined
    try {
      const result = await onError(error)
      return typeof result === 'object' && result !== null ? result : undefined
    } catch {
      return undefined
    }
  }

  #dispatch(event: StreamEvent): void {
    const next = transition(this.#state, event)
    if (next === this.#state) return
    this.#state = next
    this.#refreshStatus()
    if (next.caughtUp && this.#waiters.length > 0) {
      const waiters = this.#waiters
      this.#waiters = []
      for (const waiter of waiters) waiter.resolve()
    }
  }

  #refreshStatus(): void {
    const previous = this.#status
    this.#status = deriveStatus(previous, this.#state, {
      transport: this.#transport,
      fallbackReason: this.#runner?.fallbackReason(),
    })
    if (this.#status !== previous) for (const listener of [...this.#statusListeners]) listener()
  }

  #rejectWaiters(error: unknown): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.reject(error)
  }
}

function toShapeError(error: unknown): ShapeError {
  if (error instanceof ShapeError) return error
  return new InvalidOptionsError(`Unexpected failure in the shape stream: ${describe(error)}`, { cause: error })
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
