/**
 * A stale cache after a 409, end to end over real sockets: the dev server (`createShapeHandler` + memory source +
 * `serveNode`) behind an in-test caching proxy that stores the initial sync's non-live responses by offset and, once
 * the shape is rotated, answers the client's refetch with the stored `offset=-1` response (a response of the expired
 * handle), as a CDN that ignores the handle and cache-buster params would, and keeps answering requests for the
 * expired handle from its store. The client must refuse the stale response, refetch with a fresh cache buster, and
 * end with exactly the source's rows; it must never publish the stale snapshot (shapeStream.ts, on stale responses).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Shape } from '../../src/core/shape'
import { ShapeClient } from '../../src/core/shapeClient'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import { createMemorySource, type MemorySource } from '../../src/server/sources/memory'

interface Item {
  id: number
  title: string
}

const ITEMS = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'title', type: 'text' },
  ],
  rows: [
    { id: 1, title: 'one' },
    { id: 2, title: 'two' },
  ],
} as const

interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

interface CachingProxy {
  url: string
  /** The next `n` refetches (`offset=-1` with `expired_handle`) get the stored first `offset=-1` response. */
  replayExpired: number
  /** Every request URL, in arrival order, and whether the proxy answered it from its store. */
  readonly log: { url: URL; replayed: boolean }[]
  close(): Promise<void>
}

const DROPPED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding'])

async function startCachingProxy(upstream: string): Promise<CachingProxy> {
  /** Non-live responses of the first handle, by `offset`, stored until the first replay. */
  const stored = new Map<string, StoredResponse>()
  let firstHandle: string | undefined
  let replaying = false
  const proxy: CachingProxy = { url: '', replayExpired: 0, log: [], close: async () => undefined }
  const send = (res: ServerResponse, response: StoredResponse): void => {
    res.writeHead(response.status, response.headers)
    res.end(response.body)
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid')
    const offset = url.searchParams.get('offset') ?? ''
    const isRefetch = offset === '-1' && url.searchParams.has('expired_handle')
    const cached = stored.get(offset)
    let replay = false
    if (cached && isRefetch && proxy.replayExpired > 0) {
      proxy.replayExpired -= 1
      replaying = true
      replay = true
    } else if (cached && replaying && !isRefetch && url.searchParams.get('live') !== 'true') {
      // A client that adopted the replayed response continues with the expired handle: the cache serves that too.
      replay = firstHandle !== undefined && url.searchParams.get('handle') === firstHandle
    }
    if (cached && replay) {
      proxy.log.push({ url, replayed: true })
      send(res, cached)
      return
    }
    proxy.log.push({ url, replayed: false })
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    fetch(`${upstream}${url.pathname}${url.search}`, { headers: { accept: req.headers.accept ?? '*/*' }, signal: controller.signal })
      .then(async (response) => {
        const headers: Record<string, string> = {}
        response.headers.forEach((value, name) => {
          if (!DROPPED_HEADERS.has(name)) headers[name] = value
        })
        const record: StoredResponse = { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) }
        const handle = response.headers.get('electric-handle') ?? undefined
        if (offset === '-1') firstHandle ??= handle
        const storable = !replaying && response.status === 200 && url.searchParams.get('live') !== 'true'
        if (storable && handle === firstHandle && !stored.has(offset)) stored.set(offset, record)
        send(res, record)
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502)
        res.end()
      })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return proxy
}

const WAIT_MS = 8000

function within<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${label}`)), WAIT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function until(shape: Shape<Item>, done: () => boolean, label: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (done()) return resolve()
      const stop = shape.subscribe(() => {
        if (!done()) return
        stop()
        resolve()
      })
    }),
    label,
  )
}

const stateOf = (rows: readonly { id: unknown; title: unknown }[]): string =>
  rows
    .map((row) => `${String(row.id)}=${String(row.title)}`)
    .sort()
    .join(',')

const sourceState = (source: MemorySource): string => stateOf(source.rows('items') as { id: unknown; title: unknown }[])

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('a caching proxy replaying the expired handle after a 409', () => {
  it('is refused: the client refetches with a fresh cache buster and ends with exactly the source rows', async () => {
    const source = createMemorySource({ tables: [ITEMS] })
    const handler = createShapeHandler({ source, longPollTimeoutMs: 5000 })
    const server = await serveNode(handler, { port: 0 })
    const proxy = await startCachingProxy(server.url)
    cleanups.push(async () => {
      await handler.close()
      await source.close()
    })
    cleanups.push(() => server.close())
    cleanups.push(() => proxy.close())
    const client = new ShapeClient({ visibility: null })
    cleanups.push(() => client.dispose())
    const shape = client.shape<Item>({ url: `${proxy.url}/v1/shape`, params: { table: 'items' } })
    const published: string[] = []
    cleanups.push(shape.subscribe(() => published.push(stateOf(shape.getSnapshot().data))))
    cleanups.push(shape.retain())
    await within(shape.whenUpToDate(), 'the initial snapshot')
    const expired = shape.getStatus().handle
    expect(shape.getSnapshot().data).toHaveLength(2)

    source.transaction((tx) => {
      for (let id = 3; id <= 21; id++) tx.insert('items', { id, title: `row ${id}` })
    })
    await until(shape, () => shape.getSnapshot().data.length === 21, '21 rows over the live stream')

    // Rotate the shape (a truncate invalidates it: the live request gets a 409) while keeping 21 rows in the table.
    proxy.replayExpired = 1
    const beforeRotation = published.length
    source.transaction((tx) => {
      tx.truncate('items')
      for (let id = 1; id <= 21; id++) tx.insert('items', { id, title: `fresh ${id}` })
    })
    await until(shape, () => stateOf(shape.getSnapshot().data) === sourceState(source), 'the rotated shape')
    await within(
      new Promise<void>((resolve) => {
        if (shape.getStatus().phase === 'live') return resolve()
        const stop = shape.subscribeStatus(() => {
          if (shape.getStatus().phase !== 'live') return
          stop()
          resolve()
        })
      }),
      'live after the refetch',
    )

    expect(proxy.log.filter((entry) => entry.replayed && entry.url.searchParams.get('offset') === '-1')).toHaveLength(1)
    const refetches = proxy.log.filter((entry) => entry.url.searchParams.get('expired_handle') === expired && entry.url.searchParams.get('offset') === '-1')
    expect(refetches.length).toBeGreaterThanOrEqual(2)
    const busters = refetches.map((entry) => entry.url.searchParams.get('cache-buster'))
    expect(new Set(busters).size).toBe(busters.length)
    // Nothing of the stale response was ever shown: after the rotation every published state is the fresh table.
    expect(published.slice(beforeRotation)).toEqual([sourceState(source)])
    expect(shape.getStatus()).toMatchObject({ phase: 'live', isUpToDate: true, error: undefined })
    expect(shape.getStatus().handle).not.toBe(expired)
  })
})
