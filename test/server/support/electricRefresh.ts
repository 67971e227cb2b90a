/**
 * `ShapeStream.forceDisconnectAndRefresh()` of the official client against our server, in either live transport:
 * open a live request at the head, refresh, and check what the client did on the wire and that it still syncs.
 * Shared by test/server/interop.electric.refresh.test.ts (long-poll, Node) and
 * test/jsdom/interop.electric.sse.refresh.test.ts (SSE, which needs jsdom's `document`).
 */
import { Shape, ShapeStream } from '@electric-sql/client'
import { createTestShapeServer } from '../../../src/testing'
import type { TestShapeServer } from '../../../src/testing'
import { itemsTable, parsedItems, shapeRowsSatisfy, sortById } from './electricInterop'

/** One request the client made: its URL, whether it asked for a live response, and its abort signal. */
export interface SeenRequest {
  readonly url: URL
  readonly live: boolean
  readonly sse: boolean
  readonly signal: AbortSignal | undefined
}

/** What a refresh scenario observed, for the test to assert on. */
export interface RefreshRun {
  readonly server: TestShapeServer
  /** The live request that was open when `forceDisconnectAndRefresh()` was called. */
  readonly openLive: SeenRequest
  /** Every request made after the refresh was called, in order. */
  readonly afterRefresh: readonly SeenRequest[]
  /** Whether the open live request's signal was aborted by the time the refresh resolved. */
  readonly abortedByRefresh: boolean
  /** The rows of the client's shape after a write made once the refresh resolved reached it. */
  readonly rowsAfterNextChange: Record<string, unknown>[]
}

/**
 * Syncs `items` with the official client in `mode`, waits for a live request to be open at the head, calls
 * `forceDisconnectAndRefresh()`, then inserts a row and waits for the client to show it.
 * @example
 * const run = await refreshWhileLive('long-poll', controller.signal)
 */
export async function refreshWhileLive(mode: 'long-poll' | 'sse', signal: AbortSignal): Promise<RefreshRun> {
  // Long live timeouts: the open live request must still be open when the refresh aborts it.
  const server = createTestShapeServer({
    tables: [itemsTable([{ id: 1, title: 'one', n: 1 }])],
    longPollTimeoutMs: 60_000,
    sseTimeoutMs: 60_000,
  })
  const seen: SeenRequest[] = []
  let resolveLiveOpen: (request: SeenRequest) => void = () => {}
  const liveOpen = new Promise<SeenRequest>((resolve) => (resolveLiveOpen = resolve))
  const stream = new ShapeStream({
    url: server.url,
    params: { table: 'items' },
    signal,
    liveSse: mode === 'sse',
    fetchClient: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      const request: SeenRequest = {
        url,
        live: url.searchParams.get('live') === 'true',
        sse: url.searchParams.get('live_sse') === 'true',
        signal: init?.signal ?? undefined,
      }
      seen.push(request)
      // A live long-poll answers its headers only with its body: it is open at the head as soon as it is sent. An
      // SSE stream is open at the head once its headers arrived with up-to-date (an SSE catch-up closes at once).
      if (request.live && mode === 'long-poll') resolveLiveOpen(request)
      const response = await server.fetch(input, init)
      if (request.live && request.sse && response.headers.has('electric-up-to-date')) resolveLiveOpen(request)
      return response
    },
  })
  const shape = new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0])
  await shape.rows
  const openLive = await liveOpen
  const before = seen.length
  await stream.forceDisconnectAndRefresh()
  const abortedByRefresh = openLive.signal?.aborted === true
  server.source.insert('items', { id: 2, title: 'two', n: 2 })
  const rowsAfterNextChange = await shapeRowsSatisfy(
    shape,
    (rows) => JSON.stringify(sortById(rows)) === JSON.stringify(parsedItems(server.source.rows('items'))),
  )
  return { server, openLive, afterRefresh: seen.slice(before), abortedByRefresh, rowsAfterNextChange }
}

