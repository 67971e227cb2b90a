/**
 * One story's world: an in-process shape server (memory source + the real `/v1/shape` handler, all in the page) and
 * a `ShapeClient` whose `fetch` reaches it without a socket.
 *
 * Invariants:
 * - A fixture belongs to exactly one mounted story or test: nothing is shared between stories, so a write in one
 *   never shows in another and each starts from its seed rows.
 * - `dispose()` disposes the client first (aborting its held requests), then closes the server (ending every
 *   shape), so nothing keeps running after the story unmounts.
 */
import { ShapeClient } from '../../src/core/index'
import type { LiveRunnerFactory, VisibilityAdapter } from '../../src/core/index'
import { createTestShapeServer } from '../../src/testing/index'
import type { MemoryRow, MemoryTableInit, TestShapeServer } from '../../src/testing/index'

/** The row the stories show: one item of a to-do-like list. */
export interface Item {
  id: number
  title: string
  version: number
}

/** The `items` table every story reads. */
export const ITEMS_TABLE = 'items'

/** Three seed rows, so a story has something to show before any write. */
export const SEED_ITEMS: readonly MemoryRow[] = [
  { id: 1, title: 'Buy milk', version: 1 },
  { id: 2, title: 'Write stories', version: 1 },
  { id: 3, title: 'Ship it', version: 1 },
]

/** Options of `createStoryFixture`. */
export interface StoryFixtureOptions {
  /** Rows of `items` at start; default `SEED_ITEMS`. */
  seed?: readonly MemoryRow[]
  /** Makes the client use SSE for live requests (needs `liveRunner`). */
  liveSse?: boolean
  /** The SSE runner factory, when the core provides one. */
  liveRunner?: LiveRunnerFactory
  /** How long the server holds a live long-poll without changes; default 20 s like the real one. */
  longPollTimeoutMs?: number
  /** How long the server keeps an SSE stream open; a few ms imitates a proxy that buffers and cuts SSE. */
  sseTimeoutMs?: number
  /** Holds every request until `openGate()`, so a story can show what renders before the server answers. */
  gated?: boolean
  /** Sees every request the client sends, with its abort signal (tests check that unmounting ends them). */
  onRequest?: (url: string, signal: AbortSignal | undefined) => void
  /** Sees every response the server gives the client (tests check which transport was on the wire). */
  onResponse?: (url: string, response: Response) => void
  /** The client's grace period after the last release; default the client's (3 s). */
  gracePeriodMs?: number
  /**
   * Answers a request instead of the server when it returns a promise (a scripted 503, a request held until aborted,
   * a rewritten response); `undefined` lets the request through. `index` counts the client's requests from 0.
   */
  intercept?: (request: InterceptedRequest) => Promise<Response> | undefined
  /** The client's page visibility (a story can show `paused` with one that says hidden). */
  visibility?: VisibilityAdapter
}

/** A request as `intercept` sees it. */
export interface InterceptedRequest {
  url: URL
  index: number
  signal: AbortSignal | undefined
  /** Sends the request on to the in-page server. */
  pass(): Promise<Response>
}

/**
 * A request that never answers until the client aborts it (as a held long-poll or a stalled server).
 * @example
 * intercept: ({ index, signal }) => (index > 0 ? holdUntilAborted(signal) : undefined)
 */
export function holdUntilAborted(signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** A story's server, client and the writes its buttons make. */
export interface StoryFixture {
  server: TestShapeServer
  client: ShapeClient
  /** The shape URL to give the hooks. */
  url: string
  /** Inserts an item with the next free id and returns it. */
  insertItem(title?: string): number
  /** Bumps the version of item `id` (a one-row update). */
  updateItem(id: number): void
  deleteItem(id: number): void
  /** Ids of the source's current rows, ascending. */
  itemIds(): number[]
  /** Lets held requests through (see `gated`); later requests go straight through. */
  openGate(): void
  /** Deletes the `items` shape on the server, as Electric does on a truncate: its clients get a 409 and resync. */
  invalidate(): Promise<void>
  dispose(): Promise<void>
}

function itemsTable(seed: readonly MemoryRow[]): MemoryTableInit {
  return {
    name: ITEMS_TABLE,
    columns: [
      { name: 'id', type: 'int4', primaryKey: true },
      { name: 'title', type: 'text', notNull: true },
      { name: 'version', type: 'int4', notNull: true },
    ],
    rows: seed,
  }
}

/**
 * Creates a fresh fixture.
 * @example
 * const fixture = createStoryFixture()
 * const shape = fixture.client.shape<Item>({ url: fixture.url, params: { table: ITEMS_TABLE } })
 * fixture.insertItem('Walk the dog')
 * await fixture.dispose()
 */
export function createStoryFixture(options: StoryFixtureOptions = {}): StoryFixture {
  const server = createTestShapeServer({
    tables: [itemsTable(options.seed ?? SEED_ITEMS)],
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    // invalidate() deletes the shape (clients get 409), which the handler serves only when told to.
    allowDelete: true,
    ...(options.sseTimeoutMs === undefined ? {} : { sseTimeoutMs: options.sseTimeoutMs }),
  })
  let openGate = (): void => {}
  const gate = options.gated ? new Promise<void>((resolve) => (openGate = resolve)) : undefined
  const { onRequest, onResponse, intercept } = options
  let requests = 0
  const clientFetch: typeof fetch =
    gate || onRequest || onResponse || intercept
      ? async (input, init) => {
          const url = input instanceof Request ? input.url : String(input)
          const signal = init?.signal ?? undefined
          onRequest?.(url, signal)
          if (gate) await gate
          const pass = (): Promise<Response> => server.fetch(input, init)
          const response = await (intercept?.({ url: new URL(url), index: requests++, signal, pass }) ?? pass())
          onResponse?.(url, response)
          return response
        }
      : server.fetch
  const client = new ShapeClient({
    fetch: clientFetch,
    liveSse: options.liveSse ?? false,
    ...(options.gracePeriodMs === undefined ? {} : { gracePeriodMs: options.gracePeriodMs }),
    ...(options.liveRunner ? { liveRunner: options.liveRunner } : {}),
    ...(options.visibility ? { visibility: options.visibility } : {}),
  })
  const itemIds = (): number[] => server.source.rows(ITEMS_TABLE).map((row) => Number(row['id'])).sort((a, b) => a - b)
  const versionOf = (id: number): number => {
    const row = server.source.rows(ITEMS_TABLE).find((candidate) => Number(candidate['id']) === id)
    if (!row) throw new Error(`No item ${id}`)
    return Number(row['version'])
  }
  return {
    server,
    client,
    url: server.url,
    insertItem(title) {
      const id = Math.max(0, ...itemIds()) + 1
      server.source.insert(ITEMS_TABLE, { id, title: title ?? `Item ${id}`, version: 1 })
      return id
    },
    updateItem(id) {
      server.source.update(ITEMS_TABLE, { id, version: versionOf(id) + 1 })
    },
    deleteItem(id) {
      server.source.delete(ITEMS_TABLE, { id })
    },
    itemIds,
    openGate: () => openGate(),
    async invalidate() {
      await server.fetch(`${server.url}?table=${ITEMS_TABLE}`, { method: 'DELETE' })
    },
    async dispose() {
      openGate()
      client.dispose()
      await server.close()
    },
  }
}
