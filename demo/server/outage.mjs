/**
 * A simulated outage in front of the shape handler: for N seconds every shape request gets a 503 with
 * `retry-after`, and the requests held open when it starts (live long-polls, SSE streams) are dropped, as a restarting
 * server or a flaky proxy would.
 *
 * Invariant: a dropped request ends with a 503 (long-poll) or an ended stream (SSE), never a hang, so the client's
 * status shows the outage at once.
 */

/** @param {{ now?: () => number }} [options] */
export function createOutage({ now = Date.now } = {}) {
  let until = 0
  const dropHooks = new Set()

  const remainingSeconds = () => Math.max(1, Math.ceil((until - now()) / 1000))
  const unavailable = () =>
    new Response(JSON.stringify({ message: 'Simulated outage (demo)' }), {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': String(remainingSeconds()), 'cache-control': 'no-store' },
    })

  /** Registers `drop` until the returned function is called. */
  const onDrop = (drop) => {
    dropHooks.add(drop)
    return () => dropHooks.delete(drop)
  }

  /** A body that ends when the outage starts (for SSE streams). */
  function droppable(body) {
    const reader = body.getReader()
    let remove = () => {}
    return new ReadableStream({
      start(controller) {
        remove = onDrop(() => {
          reader.cancel().catch(() => {})
          try {
            controller.close()
          } catch {
            // already closed by the reader ending
          }
        })
      },
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) {
          remove()
          try {
            controller.close()
          } catch {
            // already closed by a drop
          }
        } else controller.enqueue(value)
      },
      cancel(reason) {
        remove()
        return reader.cancel(reason)
      },
    })
  }

  return {
    get active() {
      return now() < until
    },
    get until() {
      return until
    },
    start(seconds) {
      until = now() + seconds * 1000
      for (const drop of [...dropHooks]) drop()
    },
    /** Ends the outage now (the shape endpoint answers again). */
    end() {
      until = 0
    },
    /** Wraps a `(Request) => Promise<Response>` shape handler. */
    wrap(handler) {
      return async (request) => {
        if (now() < until) return unavailable()
        const abort = new AbortController()
        const forwarded = new Request(request, { signal: AbortSignal.any([request.signal, abort.signal]) })
        let removeDrop = () => {}
        const dropped = new Promise((resolve) => (removeDrop = onDrop(() => resolve(undefined))))
        const response = await Promise.race([handler(forwarded), dropped])
        removeDrop()
        if (response === undefined) {
          abort.abort()
          return unavailable()
        }
        if (!response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response
        return new Response(droppable(response.body), { status: response.status, headers: response.headers })
      }
    },
  }
}
