/**
 * Live SSE answers (protocol §5.1): `data: <json>\n\n` per message, `: keep-alive\n\n` when idle.
 *
 * Invariants:
 * - Only `data:` lines and the keep-alive comment are ever written: no `event:`, `id:` or `retry:`.
 * - A request behind the head gets every message up to the head as it was when the request came (whole
 *   transactions, possibly a few past it), one up-to-date, and the stream closes.
 * - A request at the head gets nothing at open; each later append is sent as its messages followed by an
 *   up-to-date whose LSN is the tx of the new end offset; keep-alives follow `keepAliveMs` without a write.
 * - The stream closes cleanly after `sseTimeoutMs` or when the shape is deleted; an offset past the head closes
 *   it silently after half the long-poll timeout unless the log reaches it first.
 * - When the client leaves (request signal aborts) or cancels the body, every timer and subscription is
 *   released at once.
 * - Backpressure: messages are taken from the log only while the body's queue is below `sseBufferBytes`
 *   (`desiredSize > 0`, read again at each pull), whole transactions at a time, so a reader that reads nothing holds
 *   at most `sseBufferBytes` plus one transaction in the queue; what it has not taken stays in the shape's log,
 *   which holds it anyway. Keep-alives are skipped while the queue is not empty. `bufferedBytes` is the queue's size.
 * - A live stream whose reader has fallen more than `sseMaxLagBytes` of log behind while its queue is full is
 *   ended with an error (the connection is cut, not closed cleanly, so nothing queued waits for a reader that does
 *   not read). The up-to-date that closes a batch is only sent after its last message, so the client resumes from
 *   the last batch it received whole and catches up from there (sseTransport.ts: batches are delivered whole, and the
 *   resume offset is the last whole batch's). A catch-up stream is
 *   never cut for lag: it ends by itself at the head, which is how a cut client makes progress.
 */
import { compareOffsets } from '../core/offset'
import { HEADER } from '../core/protocol'
import { nextCursor } from './cursor'
import type { HandlerContext } from './handlerContext'
import type { ShapeQuery } from './requestParams'
import { corsHeaders, offsetTx, sseCacheControl, upToDateMessage, withServer } from './responses'
import type { ShapeLog } from './shapeLog'

const KEEP_ALIVE = ': keep-alive\n\n'

/** An open SSE body, as the handler's `stats()` counts it. */
export interface SseStreamState {
  /** Bytes enqueued and not yet taken by the reader (backpressure, above). */
  bufferedBytes(): number
}

/** The SSE streams of one handler, and how many were cut for lagging (lag cut, above). */
export interface SseStreams {
  readonly open: Set<SseStreamState>
  cut: number
}

/** The reader fell more than `sseMaxLagBytes` behind (lag cut, above). */
export class SseReaderTooSlowError extends Error {
  constructor(lagBytes: number, maxLagBytes: number) {
    super(`SSE reader fell ${lagBytes} bytes behind (limit ${maxLagBytes}): reconnect from the last offset`)
    this.name = 'SseReaderTooSlowError'
  }
}

/** Serves `live=true&live_sse=true` on `log` from `query.offset`; `release` is called once the stream has ended. */
export function serveSse(request: Request, context: HandlerContext, log: ShapeLog, query: ShapeQuery, release: () => void = () => {}): Response {
  const { options } = context
  const encoder = new TextEncoder()
  let offset = query.offset
  const start = log.read(offset, 0)
  const headers: Record<string, string> = {
    ...corsHeaders(request),
    'content-type': 'text/event-stream',
    connection: 'keep-alive',
    'cache-control': sseCacheControl(options.sseTimeoutMs),
    [HEADER.handle]: log.handle,
    [HEADER.offset]: log.read(offset, Infinity).endOffset,
    [HEADER.hasData]: 'true',
    [HEADER.cursor]: nextCursor({
      nowMs: options.clock.now(),
      longPollTimeoutMs: options.longPollTimeoutMs,
      requestCursor: query.cursor,
      random: options.random,
    }),
  }
  headers['etag'] = `"${log.handle}:${query.offset}:${headers[HEADER.offset]}"`
  if (start.kind === 'empty') headers[HEADER.upToDate] = ''

  const catchUp = start.kind === 'data'
  /** Where a catch-up stream ends: the log's end when the request came. */
  const target = log.endOffset()
  let pump = (): void => {}
  let close = (_error?: unknown): void => {}
  const state: SseStreamState = { bufferedBytes: () => 0 }
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true
        let keepAlive: unknown
        const timers: unknown[] = []
        const cleanups: (() => void)[] = []
        state.bufferedBytes = () => (open ? Math.max(0, options.sseBufferBytes - (controller.desiredSize ?? 0)) : 0)
        context.sse.open.add(state)
        close = (error?: unknown): void => {
          if (!open) return
          open = false
          context.sse.open.delete(state)
          options.clock.clearTimeout(keepAlive)
          for (const timer of timers) options.clock.clearTimeout(timer)
          for (const cleanup of cleanups) cleanup()
          release()
          try {
            if (error === undefined) controller.close()
            else controller.error(error)
          } catch {
            // Already cancelled by the reader: nothing left to end.
          }
        }
        const room = (): number => controller.desiredSize ?? 0
        const armKeepAlive = (): void => {
          options.clock.clearTimeout(keepAlive)
          keepAlive = options.clock.setTimeout(() => {
            if (!open) return
            // Backpressure: a reader that has not taken what is queued does not need a heartbeat as well.
            if (room() >= options.sseBufferBytes) controller.enqueue(encoder.encode(KEEP_ALIVE))
            armKeepAlive()
          }, options.keepAliveMs)
        }
        /** Takes whole transactions from the log while the queue has room (backpressure); up-to-date after the end. */
        pump = (): void => {
          let sent = false
          while (open && room() > 0) {
            const read = log.readTransactions(offset, room())
            if (read.kind !== 'data') {
              // A catch-up that read the last snapshot chunk has reached an empty log: that is its end too.
              if (!catchUp || read.kind !== 'empty') break
              controller.enqueue(encoder.encode(`data: ${upToDateMessage(offsetTx(offset))}\n\n`))
              return close()
            }
            let batch = ''
            for (const message of read.messages) batch += `data: ${message}\n\n`
            offset = read.endOffset
            // A catch-up ends at the head it was asked at, so a writer faster than its reader cannot keep it open.
            const end = read.reachedEnd || (catchUp && compareOffsets(offset, target) >= 0)
            if (end) batch += `data: ${upToDateMessage(offsetTx(offset))}\n\n`
            controller.enqueue(encoder.encode(batch))
            sent = true
            if (end && catchUp) return close()
          }
          if (sent) armKeepAlive()
        }
        const onAbort = (): void => close(request.signal.reason ?? new DOMException('The operation was aborted.', 'AbortError'))
        request.signal.addEventListener('abort', onAbort, { once: true })
        cleanups.push(() => request.signal.removeEventListener('abort', onAbort))
        if (request.signal.aborted) return onAbort()
        let outOfBounds = start.kind === 'out-of-bounds'
        if (outOfBounds) timers.push(options.clock.setTimeout(() => outOfBounds && close(), options.longPollTimeoutMs / 2))
        timers.push(options.clock.setTimeout(() => close(), options.sseTimeoutMs))
        cleanups.push(
          log.subscribe((event) => {
            if (event === 'deleted') return close()
            if (outOfBounds) {
              if (log.read(offset, Infinity).kind === 'out-of-bounds') return
              outOfBounds = false
            }
            pump()
            if (!open || catchUp || room() > 0) return
            const lag = log.bytesAfter(offset)
            if (lag > options.sseMaxLagBytes) {
              context.sse.cut += 1
              close(new SseReaderTooSlowError(lag, options.sseMaxLagBytes))
            }
          }),
        )
        if (!catchUp) armKeepAlive()
      },
      pull() {
        pump()
      },
      cancel() {
        close()
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.sseBufferBytes }),
  )
  return withServer(new Response(body, { status: 200, headers }))
}
