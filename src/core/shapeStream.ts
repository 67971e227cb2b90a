/**
 * Drives the protocol: requests (long-poll or a live runner) → state transitions → parsed batches into a store.
 *
 * Invariants:
 * - D1. One request at a time per stream; each request or backoff sleep has its own AbortController, aborted by
 *   pause, stop and the user's signal, so nothing (request, timer, listener) outlives `stop()`.
 * - D2. A batch is parsed completely before the store sees it; any error leaves the store untouched (errors.ts E2).
 * - D3. 409: nothing parsed, `store.reset()`, state back to `-1` with the new handle, retried at once (no backoff).
 * - D4. Retryable errors back off without calling `onError`; other errors go to `onError`, which may return new
 *   headers/params (merged) to retry from the same position, within the bounds of `RetryPolicy`.
 * - D5. Status objects change only through `#dispatch`, so listeners see each state once, in order.
 * - D6. A request is never repeated at once without progress: a non-live response that neither moves the offset
 *   nor is up to date, or a non-live 304, is a retryable error (backoff), never a hot loop.
 * - D7. A live long-poll unanswered after `liveRequestTimeoutMs` is aborted and retried as a `NetworkError`; its
 *   watchdog timer is cleared whenever the request ends, so it never outlives it.
 * - D8. The status reflects the starting position from construction (a hydrated stream is `idle` yet up to date,
 *   with its `lastSyncedAt`), so a server render and a hydrating client derive the same status. `restartFrom` sets a
 *   new starting position only while stopped, as if the stream had been built with it.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { LiveRequestRunner } from './liveRunner'
import type { LongPollResult } from './longPollTransport'
import type { MessageParser } from './parse'
import type { Message, Row, Schema, WireRow } from './protocol'
import type { ResponseMeta } from './responseMeta'
import type { HeadersInput, RequestPosition, ShapeParamsInput } from './requestUrl'
import type { ErrorRecovery, ShapeOptions } from './shapeOptions'
import type { LiveTransport, ShapeStatus } from './shapeStatus'
import type { StreamEvent, StreamStart, StreamState } from './streamState'
import type { VisibilityAdapter } from './visibility'
import { abortReason, realClock, sleep } from './clock'
import { InvalidOptionsError, MalformedResponseError, NetworkError, ShapeError } from './errors'
import { defaultFetch } from './fetchLike'
import { longPollRequest } from './longPollTransport'
import { createMessageParser, parseSchemaHeader } from './parse'
import { isChangeMessage, isUpToDate } from './protocol'
import { buildRequestUrl, resolveRequestInputs } from './requestUrl'
import { RetryPolicy } from './retryPolicy'
import { validateShapeOptions } from './shapeOptions'
import { deriveStatus, IDLE_STATUS } from './shapeStatus'
import { initialStreamState, requestPosition, transition } from './streamState'

/** Where a stream puts parsed messages; `ShapeStore` is one. */
export interface StreamSink<T> {
  /** Parsed messages of one response or live batch, applied atomically. */
  applyBatch(messages: readonly Message<T>[]): void
  /** A 409: drop pending rows (the published snapshot stays until the next up-to-date). */
  reset(): void
  /** Change messages of a response still being read: pending only, undoable (`ShapeStore` S8). */
  stage(messages: readonly Message<T>[]): void
  /** Keeps what was staged, or reverts it exactly. */
  settleStaged(keep: boolean): void
}

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
}

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

const DEFAULT_LIVE_REQUEST_TIMEOUT_MS = 45_000

const SYNTHETIC_UP_TO_DATE: Message<WireRow> = { headers: { control: 'up-to-date' } }

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
  readonly #store: StreamSink<T>
  readonly #fetch: FetchLike
  readonly #clock: Clock
  readonly #random: () => number
  readonly #retry: RetryPolicy
  readonly #runner: LiveRequestRunner | undefined
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
  #parser: { schema: Schema; parser: MessageParser<T> } | undefined
  #headerSchema: { header: string; schema: Schema } | undefined
  #disposed = false

  constructor(options: ShapeStreamOptions<T>) {
    this.#options = options
    this.#store = options.store
    this.#fetch = options.fetch ?? defaultFetch
    this.#clock = options.clock ?? realClock
    this.#random = options.random ?? Math.random
    this.#retry = new RetryPolicy(options.backoff ?? {}, this.#random)
    this.#runner = options.liveRunner
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
    this.#parser = undefined
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
    try {
      const result = await this.#longPoll(url, inputs.headers, position.live, signal)
      if (signal.aborted) throw abortReason(signal)
      if (result.kind === 'must-refetch') return this.#mustRefetch(result.handle)
      if (result.kind === 'not-modified') return this.#notModified(result, position, url)
      this.#applyResponse(result.meta, result.messages, position, url)
    } catch (error) {
      // Whatever this response staged is undone: a failed response leaves the store as it was (E2, S8).
      this.#store.settleStaged(false)
      throw error
    }
  }

  /**
   * The consumer that stages a non-live body's leading change messages in the store while the rest is read (LP5,
   * MA4, S8), so a large snapshot chunk's message objects die young. It declines a group holding a control message.
   */
  #stager(meta: ResponseMeta): (messages: Message<WireRow>[]) => boolean {
    const schema = this.#schemaFor(meta.handle, meta.schema)
    return (messages) => {
      for (const message of messages) if (!isChangeMessage(message)) return false
      this.#store.stage(this.#parserFor(schema ?? {}).parseMessages(messages))
      return true
    }
  }

  async #longPoll(url: string, headers: Record<string, string>, live: boolean, signal: AbortSignal): Promise<LongPollResult> {
    const timeoutMs = this.#options.liveRequestTimeoutMs ?? DEFAULT_LIVE_REQUEST_TIMEOUT_MS
    if (!live) return longPollRequest({ url, headers, live, signal, fetch: this.#fetch, stage: (meta) => this.#stager(meta) })
    if (timeoutMs <= 0) return longPollRequest({ url, headers, live, signal, fetch: this.#fetch })
    const watchdog = new AbortController()
    let expired = false
    const timer = this.#clock.setTimeout(() => {
      expired = true
      watchdog.abort(CANCELLED)
    }, timeoutMs)
    // Cleared in the abort listener too: stop() and pause leave no timer behind synchronously (D1).
    const forward = (): void => {
      this.#clock.clearTimeout(timer)
      watchdog.abort(signal.reason)
    }
    signal.addEventListener('abort', forward, { once: true })
    try {
      return await longPollRequest({ url, headers, live, signal: watchdog.signal, fetch: this.#fetch })
    } catch (error) {
      if (expired && !signal.aborted) throw new NetworkError(url, new Error(`no answer to a live request within ${timeoutMs} ms`))
      throw error
    } finally {
      this.#clock.clearTimeout(timer)
      signal.removeEventListener('abort', forward)
    }
  }

  /** Takes ownership of `messages` (the transport's fresh array): it may append to it. */
  #applyResponse(meta: ResponseMeta, messages: Message<WireRow>[], position: RequestPosition, url: string): void {
    const upToDate = meta.upToDate || messages.some(isUpToDate)
    // A non-live answer that neither advances nor reaches the head would be requested again at once, forever.
    if (!upToDate && !position.live && meta.offset === position.offset && meta.handle === position.handle) {
      throw new MalformedResponseError(url, `no progress: the response ends at the requested offset ${position.offset} without up-to-date`)
    }
    const schema = this.#schemaFor(meta.handle, meta.schema)
    const last = messages[messages.length - 1]
    if (upToDate && (last === undefined || !isUpToDate(last))) messages.push(SYNTHETIC_UP_TO_DATE)
    const parsed = messages.length > 0 ? this.#parserFor(schema ?? {}).parseMessages(messages) : []
    // Nothing can fail past this point: what was staged becomes part of the batch (S8).
    this.#store.settleStaged(true)
    if (parsed.length > 0) this.#store.applyBatch(parsed)
    this.#retry.succeeded()
    this.#dispatch({
      type: 'response',
      handle: meta.handle,
      offset: meta.offset,
      cursor: meta.cursor,
      schema,
      upToDate,
      now: this.#clock.now(),
    })
  }

  #notModified(result: { cursor: string | undefined; handle: string | undefined }, position: RequestPosition, url: string): void {
    // A non-live 304 would repeat the same request forever: back off instead of spinning (D6).
    if (!position.live || position.handle === undefined) {
      throw new MalformedResponseError(url, '304 Not Modified for a non-live request (a cache revalidated a response this client lacks)')
    }
    this.#retry.succeeded()
    this.#dispatch({
      type: 'response',
      handle: result.handle ?? position.handle,
      offset: position.offset,
      cursor: result.cursor,
      schema: undefined,
      upToDate: true,
      now: this.#clock.now(),
    })
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
              const state = this.#state
              const parsed = this.#parserFor(state.schema ?? {}).parseMessages(batch.messages)
              if (parsed.length > 0) this.#store.applyBatch(parsed)
              this.#retry.succeeded()
              this.#dispatch({
                type: 'response',
                handle: state.handle ?? '',
                offset: batch.offset,
                cursor: state.cursor,
                schema: state.schema,
                upToDate: true,
                now: this.#clock.now(),
              })
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
    this.#store.reset()
    this.#parser = undefined
    this.#runner?.onReset?.()
    const cacheBuster = `${this.#clock.now()}-${Math.floor(this.#random() * 1e9).toString(36)}`
    this.#dispatch({ type: 'must-refetch', handle, cacheBuster })
  }

  #schemaFor(handle: string, header: string | undefined): Schema | undefined {
    const state = this.#state
    if (state.schema !== undefined && state.handle === handle) return state.schema
    if (header === undefined) return undefined
    // The stager and the response's last part ask for the same header: one Schema, so one compiled parser.
    if (this.#headerSchema?.header !== header) this.#headerSchema = { header, schema: parseSchemaHeader(header) }
    return this.#headerSchema.schema
  }

  #parserFor(schema: Schema): MessageParser<T> {
    if (this.#parser?.schema === schema) return this.#parser.parser
    const { parser, columnMapper, transformer, lazyJson } = this.#options
    const compiled = createMessageParser<T>(schema, {
      ...(lazyJson === true ? { lazyJson } : {}),
      ...(parser ? { parser } : {}),
      ...(columnMapper ? { columnMapper } : {}),
      ...(transformer ? { transformer } : {}),
    })
    this.#parser = { schema, parser: compiled }
    return compiled
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
