/**
 * Slow SSE readers (sseStream.ts backpressure and lag cut; nodeAdapter.ts): a reader that reads nothing holds a bounded number of
 * bytes on the server, whatever is written meanwhile; one that falls too far behind is cut, reconnects and gets
 * every change exactly once. Buffered bytes are read from counters (`handler.stats()`, `server.bufferedBytes()`),
 * never inferred from heap or timing.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import type { Shape } from '../../src/core/shape'
import { createShapeHandler, type ShapeHandler } from '../../src/server/handler'
import { serveNode, type NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource, type MemorySource } from '../../src/server/sources/memory'
import { SseReader } from './support/shapeHttp'

const ROWS = {
  name: 'rows',
  columns: [
    { name: 'id', type: 'text', primaryKey: true },
    { name: 'v', type: 'int4' },
    { name: 'pad', type: 'text' },
  ],
  rows: [
    { id: 'a', v: 0, pad: '' },
    { id: 'b', v: 0, pad: '' },
  ],
} as const

/** One transaction updating both rows to `v`, each with a new 2 kB pad: about 4.2 kB of log. */
function bump(source: MemorySource, v: number): void {
  const pad = String(v).padEnd(2_000, 'p')
  source.transaction((tx) => {
    tx.update('rows', { v, pad }, { id: 'a' })
    tx.update('rows', { v, pad }, { id: 'b' })
  })
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function liveSseUrl(handler: ShapeHandler, base = 'http://t'): Promise<string> {
  const first = await handler(new Request(`${base}/v1/shape?table=rows&offset=-1`))
  await first.body?.cancel()
  const handle = first.headers.get('electric-handle') as string
  return `/v1/shape?table=rows&offset=0_inf&handle=${handle}&live=true&live_sse=true`
}

describe('a reader that reads nothing', () => {
  it('holds at most sseBufferBytes plus one transaction in the SSE body, however much is written', async () => {
    const source = createMemorySource({ tables: [ROWS] })
    const handler = createShapeHandler({ source, sseBufferBytes: 16 * 1024, sseMaxLagBytes: Infinity })
    const response = await handler(new Request(`http://t${await liveSseUrl(handler)}`))
    for (let v = 1; v <= 200; v++) bump(source, v)
    const stats = handler.stats()
    expect(stats.sseStreams).toBe(1)
    expect(stats.sseBufferedBytes).toBeGreaterThan(0)
    expect(stats.sseBufferedBytes).toBeLessThanOrEqual(16 * 1024 + 5_000)
    expect(stats.shapeBytes).toBeGreaterThan(800_000)
    // What was held back is sent once the reader reads: every change, in order, then an up-to-date.
    const reader = new SseReader(response.body as ReadableStream<Uint8Array>)
    await reader.until((text) => text.includes('"v":"200"') && text.endsWith('"up-to-date","global_last_seen_lsn":"200"}}\n\n'))
    const values = reader.events().flatMap((event) => (event.value?.['id'] === 'a' ? [Number(event.value['v'])] : []))
    expect(values).toEqual(Array.from({ length: 200 }, (_, index) => index + 1))
    await reader.cancel()
    expect(handler.stats().sseStreams).toBe(0)
    await handler.close()
  })

  it('is cut once it falls more than sseMaxLagBytes behind; what it got ends on a whole batch', async () => {
    const source = createMemorySource({ tables: [ROWS] })
    const handler = createShapeHandler({ source, sseBufferBytes: 8 * 1024, sseMaxLagBytes: 32 * 1024 })
    const response = await handler(new Request(`http://t${await liveSseUrl(handler)}`))
    let v = 0
    while (handler.stats().sseCut === 0 && v < 1_000) bump(source, ++v)
    expect(handler.stats().sseCut).toBe(1)
    // Cut after about sseMaxLagBytes of log, not after everything.
    expect(v).toBeLessThan(20)
    expect(handler.stats().sseStreams).toBe(0)
    const reader = new SseReader(response.body as ReadableStream<Uint8Array>)
    await expect(reader.toEnd()).rejects.toThrow(/fell \d+ bytes behind/)
  })

  it('over HTTP, leaves a bounded number of bytes in the node response while the socket is full', async () => {
    const source = createMemorySource({ tables: [ROWS] })
    const handler = createShapeHandler({ source, sseBufferBytes: 16 * 1024, sseMaxLagBytes: Infinity, sseTimeoutMs: 60_000 })
    const server: NodeServer = await serveNode(handler, { port: 0 })
    cleanups.push(() => server.close())
    const path = await liveSseUrl(handler, server.url)
    const socket: Socket = connect(Number(new URL(server.url).port), '127.0.0.1')
    cleanups.push(() => void socket.destroy())
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    const headers = new Promise<void>((resolve) => socket.once('data', () => resolve()))
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
    await headers
    socket.pause()
    // 40 MB, far more than loopback socket buffers hold; the server gets an event-loop turn between bursts.
    for (let v = 1; v <= 10_000; v++) {
      bump(source, v)
      if (v % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    expect(handler.stats().sseStreams).toBe(1)
    expect(server.bufferedBytes()).toBeLessThanOrEqual(256 * 1024)
    expect(handler.stats().sseBufferedBytes).toBeLessThanOrEqual(16 * 1024 + 5_000)
    expect(handler.stats().shapeBytes).toBeGreaterThan(40_000_000)
  })
})

describe('a catch-up stream behind a writer', () => {
  it('ends at the head it was asked at, with one up-to-date, however fast the writer is', async () => {
    const source = createMemorySource({ tables: [ROWS] })
    const handler = createShapeHandler({ source, sseBufferBytes: 1 })
    const first = await handler(new Request('http://t/v1/shape?table=rows&offset=-1'))
    await first.body?.cancel()
    const handle = first.headers.get('electric-handle') as string
    for (let v = 1; v <= 3; v++) bump(source, v)
    const response = await handler(new Request(`http://t/v1/shape?table=rows&offset=1_1&handle=${handle}&live=true&live_sse=true`))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    let v = 3
    // The writer commits one transaction per chunk read: a stream that chased the moving head would never end.
    for (let chunk = 0; chunk < 50; chunk++) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
      bump(source, ++v)
    }
    expect(await reader.read()).toEqual({ done: true, value: undefined })
    expect(text.match(/"up-to-date"/g)).toHaveLength(1)
    expect(text).toContain('"v":"3"')
    expect(text.endsWith('"global_last_seen_lsn":"3"}}\n\n')).toBe(true)
  })
})

describe('a slow client that is cut', () => {
  it('reconnects and gets every change exactly once', async () => {
    const source = createMemorySource({ tables: [ROWS] })
    const handler = createShapeHandler({ source, sseBufferBytes: 8 * 1024, sseMaxLagBytes: 32 * 1024, longPollTimeoutMs: 5_000 })
    let onSse: (() => void) | undefined
    const server = await serveNode(async (request) => {
      const response = await handler(request)
      if (response.headers.get('content-type') === 'text/event-stream') onSse?.()
      return response
    }, { port: 0 })
    cleanups.push(async () => {
      await handler.close()
    })
    cleanups.push(() => server.close())
    // The client's reads of SSE bodies go through a valve the test closes to make it slow.
    let valveOpen = true
    let openValve: (() => void) | undefined
    const valve = (body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
      const reader = body.getReader()
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (!valveOpen) await new Promise<void>((resolve) => (openValve = resolve))
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        },
        cancel: (reason) => reader.cancel(reason),
      })
    }
    const client = new ShapeClient({
      liveSse: true,
      visibility: null,
      fetch: async (input, init) => {
        const response = await fetch(input, init)
        if (response.headers.get('content-type') !== 'text/event-stream' || response.body === null) return response
        return new Response(valve(response.body), { status: response.status, headers: response.headers })
      },
    })
    cleanups.push(() => client.dispose())
    const shape: Shape<{ id: string; v: number }> = client.shape({ url: `${server.url}/v1/shape`, params: { table: 'rows', columns: ['id', 'v'] } })
    const state = (rows: readonly { id: string; v: number }[]) => rows.map((row) => `${row.id}=${row.v}`).sort().join(',')
    const committed = [state(source.rows('rows').map((row) => ({ id: row['id'] as string, v: Number(row['v']) })))]
    const published: string[] = []
    cleanups.push(shape.subscribe(() => published.push(state(shape.getSnapshot().data))))
    const sseOpened = new Promise<void>((resolve) => (onSse = resolve))
    cleanups.push(shape.retain())
    await shape.whenUpToDate()
    await sseOpened

    valveOpen = false
    let v = 0
    while (handler.stats().sseCut === 0 && v < 1_000) {
      bump(source, ++v)
      committed.push(`a=${v},b=${v}`)
    }
    expect(handler.stats().sseCut).toBe(1)
    valveOpen = true
    openValve?.()
    await new Promise<void>((resolve) => {
      const check = (): boolean => state(shape.getSnapshot().data) === `a=${v},b=${v}`
      if (check()) return resolve()
      const stop = shape.subscribe(() => {
        if (!check()) return
        stop()
        resolve()
      })
    })
    // Every published state is a committed one, in commit order: no change lost, applied twice or half applied.
    let at = 0
    for (const [index, published_] of published.entries()) {
      const found = committed.indexOf(published_, at)
      expect(found, `published #${index} ${published_}`).toBeGreaterThanOrEqual(0)
      at = found
    }
    expect(published.at(-1)).toBe(`a=${v},b=${v}`)
  })
})
