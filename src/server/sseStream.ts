/**
 * Live SSE answers (protocol §5.1): `data: <json>\n\n` per message, `: keep-alive\n\n` when idle.
 *
 * Invariants:
 * - S1. Only `data:` lines and the keep-alive comment are ever written: no `event:`, `id:` or `retry:`.
 * - S2. A request behind the head gets every message up to the head, one up-to-date, and the stream closes.
 * - S3. A request at the head gets nothing at open; each later append is sent as its messages followed by an
 *   up-to-date whose LSN is the tx of the new end offset; keep-alives follow `keepAliveMs` without a write.
 * - S4. The stream closes cleanly after `sseTimeoutMs` or when the shape is deleted; an offset past the head closes
 *   it silently after half the long-poll timeout unless the log reaches it first.
 * - S5. When the client leaves (request signal aborts) or cancels the body, every timer and subscription is
 *   released at once.
 */
import { HEADER } from '../core/protocol'
import { nextCursor } from './cursor'
import type { HandlerContext } from './handlerContext'
import type { ShapeQuery } from './requestParams'
import { corsHeaders, offsetTx, sseCacheControl, upToDateMessage, withServer } from './responses'
import type { ShapeLog } from './shapeLog'

const KEEP_ALIVE = ': keep-alive\n\n'

/** Serves `live=true&live_sse=true` on `log` from `query.offset`. */
export function serveSse(request: Request, context: HandlerContext, log: ShapeLog, query: ShapeQuery): Response {
  const { options } = context
  const encoder = new TextEncoder()
  let offset = query.offset
  const start = log.read(offset, Infinity)
  const headers: Record<string, string> = {
    ...corsHeaders(request),
    'content-type': 'text/event-stream',
    connection: 'keep-alive',
    'cache-control': sseCacheControl(options.sseTimeoutMs),
    [HEADER.handle]: log.handle,
    [HEADER.offset]: start.endOffset,
    [HEADER.hasData]: 'true',
    [HEADER.cursor]: nextCursor({
      nowMs: options.clock.now(),
      longPollTimeoutMs: options.longPollTimeoutMs,
      requestCursor: query.cursor,
      random: options.random,
    }),
    etag: `"${log.handle}:${query.offset}:${start.endOffset}"`,
  }
  if (start.kind === 'empty') headers[HEADER.upToDate] = ''

  let release = (): void => {}
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true
      let keepAlive: unknown
      const timers: unknown[] = []
      const cleanups: (() => void)[] = []
      const close = (error?: unknown): void => {
        if (!open) return
        open = false
        options.clock.clearTimeout(keepAlive)
        for (const timer of timers) options.clock.clearTimeout(timer)
        for (const cleanup of cleanups) cleanup()
        try {
          if (error === undefined) controller.close()
          else controller.error(error)
        } catch {
          // Already cancelled by the reader: nothing left to end.
        }
      }
      release = () => close(undefined)
      const armKeepAlive = (): void => {
        options.clock.clearTimeout(keepAlive)
        keepAlive = options.clock.setTimeout(() => {
          if (!open) return
          controller.enqueue(encoder.encode(KEEP_ALIVE))
          armKeepAlive()
        }, options.keepAliveMs)
      }
      /** Sends everything after `offset`; returns false when there was nothing. */
      const flush = (): boolean => {
        let batch = ''
        for (;;) {
          const read = log.read(offset, Infinity)
          if (read.kind !== 'data') break
          for (const message of read.messages) batch += `data: ${message}\n\n`
          offset = read.endOffset
          if (read.reachedEnd) break
        }
        if (batch === '') return false
        controller.enqueue(encoder.encode(`${batch}data: ${upToDateMessage(offsetTx(offset))}\n\n`))
        return true
      }

      if (start.kind === 'data') {
        flush()
        close()
        return
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
          if (flush()) armKeepAlive()
        }),
      )
      armKeepAlive()
    },
    cancel() {
      release()
    },
  })
  return withServer(new Response(body, { status: 200, headers }))
}
