/**
 * A scripted `fetch` for core tests: every call becomes a `PendingRequest` the test answers with a `Response` built
 * by the helpers below, which follow SHAPE-PROTOCOL.md §8 (headers, cache-control, bodies).
 */
import type { FetchLike } from '../../../src/core/fetchLike'
import type { Message, Schema, WireRow } from '../../../src/core/protocol'

export interface PendingRequest {
  readonly url: URL
  readonly params: URLSearchParams
  readonly headers: Readonly<Record<string, string>>
  readonly signal: AbortSignal
  /** True once answered, failed or aborted. */
  readonly settled: boolean
  respond(response: Response): void
  /** Makes `fetch` reject (a network failure). */
  fail(error: unknown): void
}

/** Records requests and lets a test answer each one. */
export class FakeShapeServer {
  readonly requests: PendingRequest[] = []
  #consumed = 0
  #waiters: Array<(request: PendingRequest) => void> = []

  readonly fetch: FetchLike = (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal as AbortSignal
      let settled = false
      const onAbort = (): void => {
        if (settled) return
        settled = true
        reject(signal.reason ?? new DOMException('The operation was aborted.', 'AbortError'))
      }
      const parsed = new URL(url)
      const request: PendingRequest = {
        url: parsed,
        params: parsed.searchParams,
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        signal,
        get settled() {
          return settled
        },
        respond(response) {
          if (settled) throw new Error(`request already settled: ${url}`)
          settled = true
          signal.removeEventListener('abort', onAbort)
          resolve(response)
        },
        fail(error) {
          if (settled) throw new Error(`request already settled: ${url}`)
          settled = true
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      if (signal.aborted) {
        onAbort()
        return
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.requests.push(request)
      const waiter = this.#waiters.shift()
      if (waiter) {
        this.#consumed++
        waiter(request)
      }
    })

  /** The next request not yet handed to the test, waiting for it if needed. */
  nextRequest(): Promise<PendingRequest> {
    const ready = this.requests[this.#consumed]
    if (ready) {
      this.#consumed++
      return Promise.resolve(ready)
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Requests that are neither answered nor aborted. */
  get inFlight(): number {
    return this.requests.filter((r) => !r.settled).length
  }
}

export const HANDLE = '93245-1700000000000000'
export const SCHEMA: Schema = { id: { type: 'int4', pk_index: 0, not_null: true }, title: { type: 'text' } }
const SERVER = 'ElectricSQL/1.7.12'
const RELATION = ['public', 'items'] as const

export function keyOf(id: string | number): string {
  return `"public"."items"/"${id}"`
}

/** A snapshot row exactly as §8.4: headers `{operation, relation}` only. */
export function snapshotRow(id: number, title: string | null): Message<WireRow> {
  return { key: keyOf(id), value: { id: String(id), title }, headers: { operation: 'insert', relation: RELATION } }
}

export interface ChangeInit {
  operation: 'insert' | 'update' | 'delete'
  id: number
  title?: string | null
  lsn: string
  opPosition: number
  last?: boolean
}

/** A live change as §8.16 (`lsn`, `op_position`, `txids`, `last` on the last of its transaction). */
export function change(init: ChangeInit): Message<WireRow> {
  const value: WireRow = { id: String(init.id) }
  if (init.title !== undefined) value.title = init.title
  return {
    key: keyOf(init.id),
    value,
    headers: {
      operation: init.operation,
      relation: RELATION,
      lsn: init.lsn,
      op_position: init.opPosition,
      txids: [Number(init.lsn) % 100_000],
      ...(init.last ? { last: true } : {}),
    },
  }
}

export function snapshotEnd(): Message<WireRow> {
  return { headers: { control: 'snapshot-end', xmin: '740', xmax: '740', xip_list: [] } }
}

export function upToDate(lsn: string): Message<WireRow> {
  return { headers: { control: 'up-to-date', global_last_seen_lsn: lsn } }
}

function json(body: unknown): string {
  return JSON.stringify(body)
}

interface ChunkInit {
  handle?: string
  /** The request's offset (for the etag). */
  requestOffset: string
  /** `electric-offset` of the response. */
  offset: string
  messages: readonly Message<WireRow>[]
  schema?: Schema
}

/** §8.1/8.2: an `offset=-1` (or later snapshot chunk) response: schema, no up-to-date header or message. */
export function snapshotResponse(init: ChunkInit): Response {
  const handle = init.handle ?? HANDLE
  const cacheControl =
    init.requestOffset === '-1' ? 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746' : 'public, max-age=60, stale-while-revalidate=300'
  return new Response(json(init.messages), {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'electric-handle': handle,
      'electric-offset': init.offset,
      'electric-schema': json(init.schema ?? SCHEMA),
      'electric-has-data': 'true',
      'electric-server': SERVER,
      'cache-control': cacheControl,
      etag: `"${handle}:${init.requestOffset}:${init.offset}"`,
    },
  })
}

/** §8.3: a non-live response that reaches the head: schema, `electric-up-to-date`, body ends with up-to-date. */
export function catchUpResponse(init: ChunkInit & { lsn: string }): Response {
  const handle = init.handle ?? HANDLE
  return new Response(json([...init.messages, upToDate(init.lsn)]), {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'electric-handle': handle,
      'electric-offset': init.offset,
      'electric-schema': json(init.schema ?? SCHEMA),
      'electric-has-data': 'true',
      'electric-up-to-date': '',
      'electric-server': SERVER,
      'cache-control': 'public, max-age=60, stale-while-revalidate=300',
      etag: `"${handle}:${init.requestOffset}:${init.offset}"`,
    },
  })
}

/** §8.15/8.16: a live long-poll answer: cursor, no schema, `[changes…, up-to-date]`. */
export function liveResponse(init: Omit<ChunkInit, 'schema'> & { cursor: string; lsn: string }): Response {
  const handle = init.handle ?? HANDLE
  const hasData = init.messages.length > 0
  return new Response(json([...init.messages, upToDate(init.lsn)]), {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'electric-handle': handle,
      'electric-offset': init.offset,
      'electric-cursor': init.cursor,
      'electric-has-data': hasData ? 'true' : 'false',
      'electric-up-to-date': '',
      'electric-server': SERVER,
      'cache-control': 'public, max-age=5, stale-while-revalidate=5',
      etag: hasData ? `"${handle}:${init.requestOffset}:${init.offset}"` : `"${handle}:${init.requestOffset}:${init.offset}:1700000000000"`,
    },
  })
}

/** §8.21/8.23: 409 with `[must-refetch]`, with or without the next handle. */
export function mustRefetchResponse(handle: string | undefined): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'electric-server': SERVER,
    'cache-control': handle ? 'public, max-age=60, must-revalidate' : 'public, max-age=1, must-revalidate',
  }
  if (handle) headers['electric-handle'] = handle
  return new Response(json([{ headers: { control: 'must-refetch' } }]), { status: 409, headers })
}

/** §6: 400 validation error body. */
export function badRequestResponse(errors: Record<string, string[]>): Response {
  return new Response(json({ message: 'Invalid request', errors }), {
    status: 400,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'electric-server': SERVER,
      'cache-control': 'no-store',
      'surrogate-control': 'no-store',
    },
  })
}

/** §6: 5xx (optionally with `retry-after`). */
export function serverErrorResponse(status: number, retryAfter?: string): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'electric-server': SERVER,
    'cache-control': 'no-store',
    'surrogate-control': 'no-store',
  }
  if (retryAfter !== undefined) {
    headers['retry-after'] = retryAfter
    headers['electric-internal-known-error'] = 'true'
  }
  return new Response(json(status === 503 ? { code: 'database_unreachable', error: 'Database is unreachable' } : { error: 'Internal server error' }), {
    status,
    headers,
  })
}

/** A 200 with all required headers but the given raw body (for malformed-body tests). */
export function rawResponse(body: string, headers: Record<string, string>): Response {
  return new Response(body, { status: 200, headers: { 'electric-server': SERVER, ...headers } })
}
