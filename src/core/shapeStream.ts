/**
 * Drives the protocol: requests (long-poll or a live runner) → state transitions → parsed batches into a store.
 *
 * Invariants:
 * - One request at a time per stream; each request or backoff sleep has its own AbortController, aborted by
 *   pause, stop and the user's signal, so nothing (request, timer, listener) outlives `stop()`.
 * - A batch is parsed completely before the store sees it; any error leaves the store untouched (errors.ts;
 *   staging and its undo: the file-top invariants of responseApplier.ts).
 * - 409: nothing parsed, `store.reset()`, state back to `-1` with the new handle and a fresh cache buster. The
 *   first 409 since the last up-to-date is refetched at once; each further one is a retryable
 *   `RepeatedMustRefetchError` that waits the normal jittered backoff (its `retry-after` as a floor).
 * - A response of any handle a 409 retired on this stream, long-poll or SSE, is never applied or adopted (a cache
 *   replaying it, even one of a handle retired several refetches ago; streamState.ts, `retiredHandles`): it is
 *   refused unread and the refetch goes out again with a fresh cache buster, at once the first time since the last
 *   up-to-date, then as a retryable `StaleResponseError` with backoff. Only an up-to-date response restarts that
 *   count.
 * - Between two requests the loop yields to the event loop (clock.ts, `yieldToEventLoop`): a `fetch` that answers without I/O
 *   cannot starve timers, rendering or other streams.
 * - A `retry-after` is honoured beyond the stream that heard it: it is kept in `retryAfterHold` (per shape key, by
 *   the client) and the first request of a later stream of the same shape waits until it has passed, as a backoff
 *   (status `retrying` with the held error and `nextRetryAt`; `retryNow()`, `online` and focus end it). The stream
 *   that heard it waits in its own backoff instead: the hold is never consulted again by a stream that has sent a
 *   request.
 * - Retryable errors back off without calling `onError`; other errors go to `onError`, which may return new
 *   headers/params (merged) to retry from the same position, within the bounds of `RetryPolicy`.
 * - Status objects change only through `#dispatch`, so listeners see each state once, in order.
 * - A request is never repeated at once without progress: what responseApplier.ts refuses as no progress is a retryable
 *   error (backoff), never a hot loop.
 * - No request waits forever (liveDeadline.ts): a live long-poll unanswered after `liveRequestTimeoutMs`,
 *   an SSE connection silent (no data, no keep-alive) for `liveRequestTimeoutMs` (sseRunner.ts), and a non-live
 *   request without headers or body bytes for `requestTimeoutMs` are aborted and retried as a `NetworkError`.
 * - A backoff wait ends early, as if elapsed, on `retryNow()`, on the connectivity adapter's `online` or `focus`
 *   and when the page becomes visible: after an outage the stream retries within a task of the network coming
 *   back instead of sitting out a backoff of up to 32 s. Those events never restart a stream stopped by a
 *   non-retryable error; only `retryNow()` does (the app decided the cause is fixed). Each resets the backoff.
 *   `online` also sends a live request in flight again at once (it may hang on a connection that died with the
 *   network until its deadline); the abandoned one applies nothing.
 * - A hidden page pauses the stream, except while something holds it awake (`holdAwake`: a write waiting for its
 *   txid, which a paused stream could never deliver, so the write would time out and roll back although it
 *   landed); the last release pauses it then if the page is still hidden.
 * - The status reflects the starting position from construction (a hydrated stream is `idle` yet up to date,
 *   with its `lastSyncedAt`), so a server render and a hydrating client derive the same status. `restartFrom` sets a
 *   new starting position only while stopped, as if the stream had been built with it.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { LiveRequestRunner } from './liveRunner'
import type { MustRefetch } from './responseMeta'
import type { Row } from './protocol'
import type { ResponseReading } from './responseApplier'
import type { HeadersInput, ShapeParamsInput } from './requestUrl'
import type { ErrorRecovery, ShapeOptions } from './shapeOptions'
import type { LiveTransport, ShapeStatus } from './shapeStatus'
import type { StreamEvent, StreamStart, StreamState } from './streamState'
import type { ShapeStreamOptions } from './shapeStreamOptions'
import { BackoffWait } from './backoffWait'
import { abortReason, realClock, yieldToEventLoop } from './clock'
import { InvalidOptionsError, ShapeError, StaleResponseError } from './errors'
import { defaultFetch } from './fetchLike'
import { runLiveConnection } from './liveRunner'
import { longPollWithDeadline } from './longPollTransport'
import { RefetchGuard } from './refetchGuard'
import { ResponseApplier } from './responseApplier'
import { buildRequestUrl, resolveRequestInputs } from './requestUrl'
import { RetryPolicy } from './retryPolicy'
import { validateShapeOptions } from './shapeOptions'
import { deriveStatus, IDLE_STATUS } from './shapeStatus'
import { DEFAULT_LIVE_REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './shapeStreamOptions'
import { initialStreamState, isRetiredHandle, requestPosition, transition } from './streamState'
import { createYielder } from './yielder'
import type { Yielder } from './yielder'

export type { StreamSink } from './responseApplier'
export type { ShapeStreamOptions } from './shapeStreamOptions'

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}


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
  /** Holders keeping the stream running while the page is hidden (`holdAwake`). */
  #awake = 0
  #iteration: AbortController | undefined
  #wakeResume: (() => void) | undefined
  #unsubscribeVisibility: (() => void) | undefined
  #unsubscribeConnectivity: (() => void) | undefined
  readonly #backoffWait = new BackoffWait()
  /** Whether this stream has sent a request: from then on a `retry-after` hold is its own backoff's business. */
  #sentRequest = false
  /** The request of the current iteration is live (a long-poll or SSE connection at the head). */
  #liveInFlight = false
  readonly #refetchGuard: RefetchGuard
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
    this.#refetchGuard = new RefetchGuard(this.#clock, this.#random)
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
      offline: options.connectivity?.isOnline() === false,
    })
  }

  /**
   * Replaces the starting position of a stopped stream (hydration of a shape that exists but never ran; the status
   * reflects it from then on). Returns false, changing nothing, while the stream runs: a running stream's position is
   * the truth.
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
    if (this.#state.upToDateSinceReset) return Promise.resolve()
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
        if (visibility.isHidden()) return this.#pause()
        this.#resume()
        this.#endBackoff()
      })
    }
    const connectivity = this.#options.connectivity
    if (connectivity) {
      this.#unsubscribeConnectivity = connectivity.subscribe((change) => {
        this.#refreshStatus()
        if (change !== 'offline') this.#endBackoff()
        if (change === 'online') this.#resendLiveRequest()
      })
    }
    const generation = ++this.#generation
    void this.#loop(generation)
  }

  /** Stops at once: aborts the request or backoff sleep in flight, removes listeners and timers. */
  stop(): void {
    if (this.#state.phase === 'stopped') {
      // Waiters may have come before any start (a shape awaited but never retained, or closed while its stored entry
      // was being read): stopping settles them too, or they would wait for a stream that will never run.
      if (this.#waiters.length > 0) this.#rejectWaiters(new DOMException('The shape stream was stopped', 'AbortError'))
      return
    }
    this.#generation++
    this.#dispatch({ type: 'stop' })
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#unsubscribeVisibility?.()
    this.#unsubscribeVisibility = undefined
    this.#unsubscribeConnectivity?.()
    this.#unsubscribeConnectivity = undefined
    this.#iteration?.abort(CANCELLED)
    // Settled now, not when the aborted read unwinds: the store is as before the response at once.
    this.#applier.discard()
    this.#wakeResume?.()
    if (this.#waiters.length > 0) this.#rejectWaiters(new DOMException('The shape stream was stopped', 'AbortError'))
  }

  /**
   * Retries at once: ends a backoff wait, or restarts a stream stopped by its error (the app says the cause is
   * fixed, e.g. after a new login). Returns false, changing nothing, when no retry is pending or possible.
   * @example
   * if (status.phase === 'retrying' || status.phase === 'error') stream.retryNow()
   */
  retryNow(): boolean {
    if (this.#disposed) return false
    if (this.#state.phase === 'backoff') return this.#endBackoff()
    if (this.#state.phase !== 'error') return false
    this.#retry.succeeded()
    this.#dispatch({ type: 'retry' })
    void this.#loop(++this.#generation)
    return true
  }

  /**
   * A live request sent before the network came back may hang on a connection that died with it until its deadline
   * (`liveRequestTimeoutMs`): on `online` it is abandoned (nothing of it is applied) and sent again at once.
   */
  #resendLiveRequest(): void {
    if (!this.#liveInFlight || this.#state.phase !== 'live') return
    this.#iteration?.abort(CANCELLED)
    this.#applier.discard()
  }

  #endBackoff(): boolean {
    if (this.#state.phase !== 'backoff' || !this.#backoffWait.waiting) return false
    this.#retry.succeeded()
    return this.#backoffWait.wake()
  }

  readonly #onAbort = (): void => {
    this.#disposed = true
    this.stop()
  }

  /**
   * Keeps the stream running while the page is hidden, until the returned function is called (see the invariants).
   * @example
   * const release = stream.holdAwake() // a write waits for its txid
   */
  holdAwake(): () => void {
    this.#awake++
    this.#resume()
    let held = true
    return () => {
      if (!held) return
      held = false
      this.#awake--
      // Released from inside a publish (the write's confirmation), before the stream took the response's position:
      // pausing then would drop that position, so the pause waits for the microtask after it.
      queueMicrotask(() => {
        if (this.#awake === 0 && this.#options.visibility?.isHidden()) this.#pause()
      })
    }
  }

  #pause(): void {
    if (this.#awake > 0) return
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
    let yieldFirst = false
    while (generation === this.#generation) {
      const phase = this.#state.phase
      if (phase === 'error' || phase === 'stopped') return
      if (phase === 'paused') {
        await new Promise<void>((resolve) => (this.#wakeResume = resolve))
        this.#wakeResume = undefined
        continue
      }
      if (yieldFirst) {
        // The yield between requests; the phase is checked again after it (a pause or stop may have come in between).
        yieldFirst = false
        await yieldToEventLoop(this.#clock)
        continue
      }
      yieldFirst = true
      const controller = new AbortController()
      this.#iteration = controller
      try {
        if (!this.#sentRequest) await this.#waitForRetryAfter(controller.signal)
        this.#sentRequest = true
        await this.#step(controller.signal)
      } catch (error) {
        if (!controller.signal.aborted) {
          await this.#recover(toShapeError(error), controller.signal).catch((sleepError: unknown) => {
            if (!controller.signal.aborted) throw sleepError
          })
        }
      } finally {
        if (this.#iteration === controller) {
          this.#iteration = undefined
          this.#liveInFlight = false
        }
      }
    }
  }

  /**
   * Waits out a `retry-after` the server sent to an earlier stream of this shape (retryAfterHold.ts), as a backoff:
   * the status is `retrying` with that error and `nextRetryAt`, and `retryNow()` ends the wait.
   */
  async #waitForRetryAfter(signal: AbortSignal): Promise<void> {
    const held = this.#options.retryAfterHold?.current()
    if (held === undefined) return
    this.#dispatch({ type: 'retryable-error', error: held.error, nextRetryAt: held.untilMs })
    await this.#backoffWait.sleep(this.#clock, held.untilMs - this.#clock.now(), signal)
    this.#dispatch({ type: 'retry' })
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
    this.#liveInFlight = position.live
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
      if (result.kind === 'must-refetch') return this.#onMustRefetch(result, url)
      if (result.kind === 'stale') return this.#onStaleResponse(result.handle, url)
      const event =
        result.kind === 'not-modified'
          ? this.#applier.notModified(result, position, url, this.#clock.now())
          : this.#applier.applyResponse(reading, result, position, url, () => this.#clock.now())
      this.#retry.succeeded()
      this.#dispatch(event)
    } catch (error) {
      // Whatever this response staged is undone: a failed response leaves the store as it was.
      this.#applier.discard()
      throw error
    }
  }

  #longPoll(url: string, headers: Record<string, string>, live: boolean, signal: AbortSignal, reading: ResponseReading<T>) {
    const request = { url, headers, live, signal, fetch: this.#fetch, retiredHandles: this.#state.retiredHandles }
    return longPollWithDeadline(live ? request : { ...request, stage: (meta) => reading.stager(meta), yielder: this.#yielder }, {
      clock: this.#clock,
      liveTimeoutMs: this.#liveTimeoutMs(),
      idleTimeoutMs: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    })
  }


  #liveTimeoutMs(): number {
    return this.#options.liveRequestTimeoutMs ?? DEFAULT_LIVE_REQUEST_TIMEOUT_MS
  }

  async #runLive(runner: LiveRequestRunner, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
    const request = { url, headers, signal, fetch: this.#fetch, idleTimeoutMs: this.#liveTimeoutMs() }
    try {
      const end = await runLiveConnection(runner, request, {
        onOpen: (meta) => {
          if (isRetiredHandle(this.#state, meta.handle)) throw new StaleResponseError(url, meta.handle)
          this.#retry.succeeded()
          const { handle, offset, cursor } = meta
          this.#dispatch({ type: 'response', handle, offset, cursor, schema: undefined, upToDate: false, now: this.#clock.now() })
        },
        onBatch: (batch) => {
          const event = this.#applier.applyLive(this.#state, batch, () => this.#clock.now())
          this.#retry.succeeded()
          this.#dispatch(event)
        },
      })
      if (signal.aborted) throw abortReason(signal)
      if (end.kind === 'must-refetch') this.#onMustRefetch(end, url)
    } catch (error) {
      // A connection that opened with a retired handle was closed unread (onOpen above): it is handled like a stale
      // long-poll response (a fresh cache buster, at once the first time), not as an ordinary failure.
      if (!(error instanceof StaleResponseError) || signal.aborted) throw error
      this.#onStaleResponse(error.handle, url)
    } finally {
      this.#refreshStatus()
    }
  }


  /** A 409 resets at once; a 409 that follows another without an up-to-date between them backs off. */
  #onMustRefetch(signal: MustRefetch, url: string): void {
    const failure = this.#refetchGuard.mustRefetch(url, signal.retryAfter)
    this.#applier.reset()
    this.#runner?.onReset?.()
    this.#dispatch({ type: 'must-refetch', handle: signal.handle, cacheBuster: this.#refetchGuard.cacheBuster() })
    if (failure) throw failure
  }

  /** A response of the expired handle was refused unread; refetch with a fresh cache buster. */
  #onStaleResponse(handle: string, url: string): void {
    const failure = this.#refetchGuard.staleResponse(url, handle)
    this.#dispatch({ type: 'stale-response', cacheBuster: this.#refetchGuard.cacheBuster() })
    if (failure) throw failure
  }

  async #recover(failure: ShapeError, signal: AbortSignal): Promise<void> {
    const decision = this.#retry.afterFailure(failure, this.#clock.now())
    if (decision.kind === 'backoff') {
      this.#dispatch({ type: 'retryable-error', error: failure, nextRetryAt: this.#clock.now() + decision.delayMs })
      await this.#backoffWait.sleep(this.#clock, decision.delayMs, signal)
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
    // From here the stream retries by itself: `retrying` with the time of the retry (shapeStatus.ts).
    this.#dispatch({ type: 'retryable-error', error, nextRetryAt: this.#clock.now() + delayMs })
    await this.#backoffWait.sleep(this.#clock, delayMs, signal)
    this.#dispatch({ type: 'retry' })
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
    // Only an up-to-date response restarts the counts: other events while live (a refused stale response, a retry)
    // must not, or a cache replaying the expired handle to every live request would be asked again at once forever.
    if (event.type === 'response' && event.upToDate) this.#refetchGuard.upToDate()
    this.#refreshStatus()
    if (next.upToDateSinceReset && this.#waiters.length > 0) {
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
      offline: this.#options.connectivity?.isOnline() === false,
    })
    if (this.#status === previous) return
    // A listener that throws must not stop the stream (or its loop): the others still run, the error surfaces apart.
    for (const listener of [...this.#statusListeners]) {
      try {
        listener()
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
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
