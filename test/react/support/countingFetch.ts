/**
 * Wraps a `fetch` to count what the tests assert on: requests started, still open, and initial (`offset=-1`) ones.
 * A request is open from the call until its promise settles or its signal aborts, or, for a response with a body,
 * until the body is read to its end or cancelled.
 */
export interface CountingFetch {
  fetch: typeof fetch
  readonly started: number
  readonly open: number
  /** Requests with `offset=-1`: one per stream started from scratch. */
  readonly initial: number
  /** Resolves when no request is open. */
  idle(): Promise<void>
}

export function countingFetch(inner: typeof fetch): CountingFetch {
  let started = 0
  let open = 0
  let initial = 0
  let waiters: Array<() => void> = []
  const closeOne = (): void => {
    open -= 1
    if (open === 0) {
      const ready = waiters
      waiters = []
      for (const resolve of ready) resolve()
    }
  }
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    started += 1
    open += 1
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    if (url.searchParams.get('offset') === '-1') initial += 1
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      closeOne()
    }
    init?.signal?.addEventListener('abort', close, { once: true })
    try {
      const response = await inner(input, init)
      if (response.body === null) {
        close()
        return response
      }
      const reader = response.body.getReader()
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = await reader.read().catch((error: unknown) => {
            close()
            throw error
          })
          if (chunk.done) {
            close()
            controller.close()
          } else controller.enqueue(chunk.value)
        },
        cancel(reason) {
          close()
          return reader.cancel(reason)
        },
      })
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
    } catch (error) {
      close()
      throw error
    }
  }) as typeof fetch
  return {
    fetch: wrapped,
    get started() {
      return started
    },
    get open() {
      return open
    },
    get initial() {
      return initial
    },
    idle() {
      return open === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))
    },
  }
}
