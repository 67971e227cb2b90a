/**
 * A `fetch` whose answers the test gives one request at a time, for faults the dev server cannot produce on demand
 * (network failures, 401, a 400 with chosen messages). Requests wait until the test answers or aborts them.
 */

export interface ScriptedRequest {
  readonly url: URL
  readonly live: boolean
  readonly headers: Headers
  readonly signal: AbortSignal | undefined
  respond(response: Response): void
  fail(error: unknown): void
}

export interface ScriptedFetch {
  fetch: typeof fetch
  /** The next request (already made, or the next one to come). */
  next(): Promise<ScriptedRequest>
  /** Requests made and not answered yet. */
  readonly waiting: number
}

export function scriptedFetch(): ScriptedFetch {
  const queue: ScriptedRequest[] = []
  const takers: Array<(request: ScriptedRequest) => void> = []
  let waiting = 0
  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
      let settled = false
      waiting += 1
      const settle = (): boolean => {
        if (settled) return false
        settled = true
        waiting -= 1
        return true
      }
      init?.signal?.addEventListener('abort', () => {
        if (settle()) reject(init.signal?.reason)
      })
      const request: ScriptedRequest = {
        url,
        live: url.searchParams.get('live') === 'true',
        headers: new Headers(init?.headers),
        signal: init?.signal ?? undefined,
        respond: (response) => {
          if (settle()) resolve(response)
        },
        fail: (error) => {
          if (settle()) reject(error)
        },
      }
      const taker = takers.shift()
      if (taker) taker(request)
      else queue.push(request)
    })) as typeof fetch
  return {
    fetch: fetchImpl,
    next() {
      const queued = queue.shift()
      if (queued) return Promise.resolve(queued)
      return new Promise((resolve) => takers.push(resolve))
    },
    get waiting() {
      return waiting
    },
  }
}

const SCHEMA = JSON.stringify({ id: { type: 'int4', pk_index: 0 }, title: { type: 'text' }, done: { type: 'bool' } })

/** A complete initial response: the given rows as inserts, then up-to-date. */
export function snapshotResponse(rows: ReadonlyArray<{ id: number; title: string; done: boolean }>, handle = 'h-1'): Response {
  const messages = [
    ...rows.map((row) => ({
      key: `"public"."items"/"${row.id}"`,
      value: { id: String(row.id), title: row.title, done: String(row.done) },
      headers: { operation: 'insert' },
    })),
    { headers: { control: 'up-to-date' } },
  ]
  return new Response(JSON.stringify(messages), {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'electric-handle': handle,
      'electric-offset': '0_0',
      'electric-schema': SCHEMA,
      'electric-up-to-date': '',
    },
  })
}

/** An error response with a JSON body. */
export function errorResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}
