/**
 * The seam for live transports other than long-polling (SSE): the stream asks for a runner before each live request.
 *
 * Invariants:
 * - A runner is used only for live requests (after an up-to-date, never for initial sync or a catch-up); the
 *   stream owns the URL (position params plus `extraParams`, sorted) and the headers.
 * - A runner delivers only whole batches, each ending with an `up-to-date` message, with the offset to resume
 *   from after that batch; the stream parses and applies each batch atomically as it arrives.
 * - A runner reports failures by throwing typed errors (`ShapeError`, e.g. from `readResponseMeta`) and a 409
 *   by returning `MustRefetch`; it never touches the store.
 * - When `signal` aborts, `run` settles promptly (resolving with `aborted: true` or rejecting with the abort
 *   reason) and leaves no timer or listener behind.
 * - `runLiveConnection` isolates the stream from a runner: a sink callback that throws ends the connection at
 *   once (no later callback runs) and the run rejects with that error, whatever the runner did with the abort; the
 *   caller's abort reaches the runner, and the listener that forwards it is removed on every path.
 * - A runner honours `idleTimeoutMs` as a heartbeat: silence (no headers, no data, no keep-alive) for that long
 *   ends the connection with a retryable `NetworkError`, so a stream that went quiet is never shown `live`.
 */
import type { Clock } from './clock'
import type { FetchLike } from './fetchLike'
import type { Message, WireRow } from './protocol'
import type { MustRefetch, ResponseMeta } from './responseMeta'
import type { LiveTransport } from './shapeStatus'

/** One live request as the stream prepared it. */
export interface LiveRunRequest {
  url: string
  headers: Record<string, string>
  signal: AbortSignal
  fetch: FetchLike
  /**
   * The connection is abandoned (a retryable `NetworkError`) when nothing, headers, data or keep-alive, arrives for
   * this long; 0 or absent: no bound.
   */
  idleTimeoutMs?: number | undefined
}

/** A batch of raw wire messages ending with `up-to-date`, and the offset to resume from after it. */
export interface LiveBatch {
  messages: readonly Message<WireRow>[]
  offset: string
}

/** Callbacks the stream gives a runner for one connection. */
export interface LiveRunSink {
  /** The response headers were read (handle, offset, cursor); call once, before any batch. */
  onOpen(meta: ResponseMeta): void
  /** A whole batch arrived. */
  onBatch(batch: LiveBatch): void
}

/** How a live connection ended. */
export interface LiveConnectionEnd {
  kind: 'closed'
  /** From just before the request until the stream ended. */
  durationMs: number
  /** True when the stream (pause, stop) aborted it rather than the server closing it. */
  aborted: boolean
}

/**
 * A live transport the stream can use instead of a long-poll (e.g. SSE).
 * @example
 * const runner: LiveRequestRunner = {
 *   transport: 'sse', extraParams: { live_sse: 'true' }, isEnabled: () => true, fallbackReason: () => undefined,
 *   run: async (request, sink) => ({ kind: 'closed', durationMs: 0, aborted: false }),
 * }
 */
export interface LiveRequestRunner {
  readonly transport: LiveTransport
  /** Params added to live requests made through this runner (e.g. `live_sse=true`). */
  readonly extraParams: Readonly<Record<string, string>>
  /** False once the runner gave up (e.g. a buffering proxy); live requests then long-poll. */
  isEnabled(): boolean
  /** Why the runner disabled itself, shown as `ShapeStatus.fallbackReason`. */
  fallbackReason(): string | undefined
  /** The stream was reset by a 409: a runner that fell back may try again. */
  onReset?(): void
  /** Runs one connection until it ends. */
  run(request: LiveRunRequest, sink: LiveRunSink): Promise<LiveConnectionEnd | MustRefetch>
}

/**
 * Builds a runner for one stream; a client option so SSE stays out of bundles that do not use it.
 * @example
 * const client = new ShapeClient({ liveSse: true, liveRunner: myRunnerFactory }) // default: SSE, loaded on first use
 */
export type LiveRunnerFactory = (context: { fetch: FetchLike; clock: Clock; random: () => number }) => LiveRequestRunner

/** Why `runLiveConnection` ends a connection whose sink failed: checked through `signal.aborted`, never by reason. */
const SINK_FAILED = Object.freeze({ name: 'AbortError', message: 'The live sink failed' })

/**
 * Runs one connection of `runner`, ending it at the first sink callback that throws (see the invariants above).
 * @example
 * const end = await runLiveConnection(runner, { url, headers, signal, fetch }, { onOpen, onBatch })
 */
export async function runLiveConnection(
  runner: LiveRequestRunner,
  request: LiveRunRequest,
  sink: LiveRunSink,
): Promise<LiveConnectionEnd | MustRefetch> {
  const { signal } = request
  let failure: { error: unknown } | undefined
  const connection = new AbortController()
  const forward = (): void => connection.abort(signal.reason)
  if (signal.aborted) forward()
  else signal.addEventListener('abort', forward, { once: true })
  const guarded =
    <A>(callback: (arg: A) => void) =>
    (arg: A): void => {
      if (failure !== undefined || connection.signal.aborted) return
      try {
        callback(arg)
      } catch (error) {
        failure = { error }
        connection.abort(SINK_FAILED)
      }
    }
  try {
    const end = await runner.run(
      { ...request, signal: connection.signal },
      { onOpen: guarded((meta: ResponseMeta) => sink.onOpen(meta)), onBatch: guarded((batch: LiveBatch) => sink.onBatch(batch)) },
    )
    if (failure !== undefined) throw failure.error
    return end
  } catch (error) {
    throw failure === undefined ? error : failure.error
  } finally {
    signal.removeEventListener('abort', forward)
  }
}
