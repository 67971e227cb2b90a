/**
 * The SSE live runner: plugs `runSseRequest` and the fallback policy into the stream's live-transport seam
 * (`liveRunner.ts`). Pass `sseRunner` as `ShapeClient`'s `liveRunner` option to use SSE when `liveSse` is on.
 *
 * Invariants:
 * - Live requests through this runner carry `live_sse=true` and `experimental_live_sse=true` (new and old servers).
 * - The meta handed to the stream at open carries the request's own offset, not the response's
 *   `electric-offset`: in SSE mode that header describes the log at request start, and adopting it before the
 *   catch-up events arrived would skip them if the connection broke (see the resume offset rule in `sseTransport.ts`).
 *   The position only
 *   moves with delivered batches.
 * - Every connection that ends without a must-refetch feeds the fallback policy (`sseFallback.ts`), including one
 *   that failed mid-stream with a `NetworkError`, with whether it delivered a change (a short catch-up that delivered
 *   changes is not counted, sseFallback.ts); after a short one the runner waits the policy's delay (on the
 *   injected clock, cancelled by abort) before returning, so the next SSE request is spaced out. Once the policy falls
 *   back, `isEnabled()` is false and `fallbackReason()` says why, until `onReset()` (a 409).
 * - Heartbeat: with `idleTimeoutMs` (the stream's `liveRequestTimeoutMs`), a connection on which nothing arrives
 *   for that long, from the request on (headers, data, the server's `: keep-alive` comments), is aborted and ends in
 *   a retryable `NetworkError`; it counts for the fallback policy as a silent connection (sseFallback.ts).
 * - One runner per stream: the policy state lives in the runner, never in the module.
 */
import { sleep } from './clock'
import { withIdleDeadline } from './liveDeadline'
import { NetworkError } from './errors'
import type { LiveRunnerFactory } from './liveRunner'
import { isChangeMessage, PARAM, SSE_LIVE_PARAMS } from './protocol'
import { initialSseFallback, onSseConnectionClosed, resetSseFallback } from './sseFallback'
import { runSseRequest } from './sseTransport'

const noop = (): void => undefined

/**
 * Builds the SSE runner of one shape stream.
 * @example
 * const client = new ShapeClient({ liveSse: true, liveRunner: sseRunner })
 */
export const sseRunner: LiveRunnerFactory = ({ clock, random }) => {
  let fallback = initialSseFallback()
  const closed = (durationMs: number, aborted: boolean, deliveredChanges: boolean, silent = false): number => {
    const decision = onSseConnectionClosed(fallback, { durationMs, aborted, deliveredChanges, silent }, random)
    fallback = decision.state
    return decision.delayMs
  }
  return {
    transport: 'sse',
    extraParams: SSE_LIVE_PARAMS,
    isEnabled: () => !fallback.fallenBack,
    fallbackReason: () => fallback.reason,
    onReset: () => {
      fallback = resetSseFallback()
    },
    async run(request, sink) {
      const offset = new URL(request.url, 'http://relative.invalid').searchParams.get(PARAM.offset) ?? ''
      const startedAt = clock.now()
      const idleMs = request.idleTimeoutMs ?? 0
      let deliveredChanges = false
      let lastActivity = startedAt
      const attempt = (signal: AbortSignal, touch: () => void) =>
        runSseRequest({
          fetch: request.fetch,
          url: request.url,
          offset,
          headers: request.headers,
          signal,
          clock,
          onMeta: (meta) => sink.onOpen({ ...meta, offset }),
          onBatch: (batch) => {
            if (!deliveredChanges) deliveredChanges = batch.messages.some(isChangeMessage)
            sink.onBatch(batch)
          },
          onActivity: () => {
            lastActivity = clock.now()
            touch()
          },
        })
      let end
      try {
        end =
          idleMs > 0
            ? await withIdleDeadline(clock, idleMs, request.url, request.signal, 'SSE data or keep-alive', attempt)
            : await attempt(request.signal, noop)
      } catch (error) {
        if (error instanceof NetworkError) {
          const silent = idleMs > 0 && clock.now() - lastActivity >= idleMs
          closed(clock.now() - startedAt, request.signal.aborted, deliveredChanges, silent)
        }
        throw error
      }
      if (end.reason === 'must-refetch') {
        return { kind: 'must-refetch', handle: end.handle, ...(end.retryAfter === undefined ? {} : { retryAfter: end.retryAfter }) }
      }
      const aborted = end.reason === 'aborted'
      const delayMs = closed(end.durationMs, aborted, deliveredChanges)
      if (delayMs > 0) await sleep(clock, delayMs, request.signal)
      return { kind: 'closed', durationMs: end.durationMs, aborted }
    },
  }
}
