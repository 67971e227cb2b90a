/**
 * The fault proxy does what each fault says (`support/faultProxy.ts`), checked with plain `fetch` against the dev
 * server on the memory source, so a property test that passes is not passing because a fault was a no-op.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShapeHandler, type ShapeHandler } from '../../src/server/handler'
import { serveNode, type NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource, type MemorySource } from '../../src/server/sources/memory'
import { seededRandom, startFaultProxy, type FaultProxy } from './support/faultProxy'
import { targetsOf } from './support/faultProxyRequests'

let source: MemorySource
let handler: ShapeHandler
let server: NodeServer
let proxy: FaultProxy
let shapeUrl: string

beforeAll(async () => {
  source = createMemorySource({
    tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }] }],
  })
  for (let id = 1; id <= 20; id++) source.insert('items', { id, title: `item ${id} `.repeat(5) })
  handler = createShapeHandler({ source, allowDelete: true, longPollTimeoutMs: 300, sseTimeoutMs: 1000, keepAliveMs: 200 })
  server = await serveNode(handler, { port: 0 })
  proxy = await startFaultProxy({ upstream: server.url, random: seededRandom(3), maxStallMs: 50 })
  shapeUrl = `${proxy.url}/v1/shape?table=items`
})

afterAll(async () => {
  await proxy.close()
  await server.close()
  await handler.close()
  await source.close()
})

/** The handle and end offset of the shape's first response, through the proxy without a fault. */
async function position(): Promise<{ handle: string; offset: string; body: string }> {
  const response = await fetch(`${shapeUrl}&offset=-1`)
  return { handle: response.headers.get('electric-handle') as string, offset: response.headers.get('electric-offset') as string, body: await response.text() }
}

describe('fault targets', () => {
  it.each([
    ['?table=t&offset=-1', ['any', 'initial']],
    ['?table=t&offset=-1&handle=h&expired_handle=g', ['any', 'initial', 'refetch', 'with-handle']],
    ['?table=t&offset=0_0&handle=h', ['any', 'catch-up', 'with-handle']],
    ['?table=t&offset=0_inf&handle=h&live=true', ['any', 'live', 'with-handle']],
    ['?table=t&offset=0_inf&handle=h&live=true&live_sse=true', ['any', 'sse', 'with-handle']],
  ])('%s is %j', (query, targets) => {
    expect([...(targetsOf(new URL(`http://x/v1/shape${query}`), 'GET') ?? [])].sort()).toEqual([...targets].sort())
  })

  it('leaves other requests alone', () => {
    expect(targetsOf(new URL('http://x/v1/shape?table=t&offset=-1'), 'DELETE')).toBeUndefined()
    expect(targetsOf(new URL('http://x/health'), 'GET')).toBeUndefined()
  })
})

describe('fault proxy', () => {
  it('passes requests through untouched when no fault is armed', async () => {
    const direct = await (await fetch(`${server.url}/v1/shape?table=items&offset=-1`)).json()
    expect(JSON.parse((await position()).body)).toEqual(direct)
    expect(proxy.counts['pass']).toBeGreaterThan(0)
  })

  it('drops a connection, answers 5xx with and without retry-after, and stalls then drops', async () => {
    proxy.arm({ kind: 'drop' })
    await expect(fetch(`${shapeUrl}&offset=-1`)).rejects.toThrow()
    proxy.arm({ kind: 'server-error' })
    const failed = await fetch(`${shapeUrl}&offset=-1`)
    expect([500, 502, 503, 504]).toContain(failed.status)
    expect(failed.headers.get('retry-after')).toBeNull()
    proxy.arm({ kind: 'retry-after' })
    const overloaded = await fetch(`${shapeUrl}&offset=-1`)
    expect(overloaded.status).toBe(503)
    expect(['0', '1']).toContain(overloaded.headers.get('retry-after'))
    proxy.arm({ kind: 'stall', ms: 30 })
    await expect(fetch(`${shapeUrl}&offset=-1`)).rejects.toThrow()
  })

  it('hangs before the headers, or goes silent after them, until the client gives up', async () => {
    proxy.arm({ kind: 'hang' })
    const hung = new AbortController()
    const finished = proxy.finished
    const hanging = fetch(`${shapeUrl}&offset=-1`, { signal: hung.signal })
    await proxy.waitUntilClaimed()
    hung.abort()
    await expect(hanging).rejects.toThrow()
    await proxy.waitForFinished(finished + 1)

    proxy.arm({ kind: 'silence' })
    const quiet = new AbortController()
    const silent = await fetch(`${shapeUrl}&offset=-1`, { signal: quiet.signal })
    expect(silent.status).toBe(200)
    const body = silent.text()
    quiet.abort()
    await expect(body).rejects.toThrow()
  })

  it('provokes a real 409 by deleting the shape upstream', async () => {
    const { handle, offset } = await position()
    proxy.arm({ kind: 'conflict', target: 'with-handle' })
    const response = await fetch(`${shapeUrl}&offset=${offset}&handle=${handle}`)
    expect(response.status).toBe(409)
    expect(response.headers.get('electric-handle')).not.toBe(handle)
  })

  it('cuts a body mid-way, truncates one cleanly, and garbles one', async () => {
    const { body } = await position()
    proxy.arm({ kind: 'cut', fraction: 0.5 })
    const cut = await fetch(`${shapeUrl}&offset=-1`)
    expect(cut.status).toBe(200)
    await expect(cut.text()).rejects.toThrow()
    proxy.arm({ kind: 'truncate', fraction: 0.5 })
    const truncated = await (await fetch(`${shapeUrl}&offset=-1`)).text()
    expect(truncated.length).toBeLessThan(body.length)
    expect(body.startsWith(truncated)).toBe(true)
    proxy.arm({ kind: 'malformed' })
    const garbled = await (await fetch(`${shapeUrl}&offset=-1`)).text()
    expect(() => JSON.parse(garbled)).toThrow()
  })

  it('replays the last response recorded for a URL, ignoring cursor, expired_handle and cache-buster', async () => {
    const first = await position()
    source.insert('items', { id: 100, title: 'after the first response' })
    proxy.arm({ kind: 'replay', target: 'refetch' })
    const replayed = await fetch(`${shapeUrl}&offset=-1&expired_handle=${first.handle}&cache-buster=x1`)
    expect(replayed.headers.get('electric-handle')).toBe(first.handle)
    expect(await replayed.text()).toBe(first.body)
  })

  it('cuts an SSE response in the middle of an event, and buffers one until the server ends it', async () => {
    const { handle, offset } = await position()
    const sse = `${shapeUrl}&offset=${offset}&handle=${handle}&live=true&live_sse=true`
    proxy.arm({ kind: 'cut', target: 'sse', fraction: 0 })
    const cutResponse = fetch(sse).then((response) => response.text())
    source.insert('items', { id: 200, title: 'an event to cut' })
    await expect(cutResponse).rejects.toThrow()

    proxy.arm({ kind: 'sse-buffer', target: 'sse' })
    const buffered = await fetch(`${shapeUrl}&offset=${offset}&handle=${handle}&live=true&live_sse=true`)
    // Headers arrive only once the server ended the stream: the whole body comes with a length.
    expect(buffered.headers.get('content-length')).not.toBeNull()
    expect(await buffered.text()).toContain('data:')
  })

  it('reports how long a client waited after a retry-after, and holds no timer when idle', async () => {
    const gaps = proxy.retryAfterGaps.length
    proxy.arm({ kind: 'retry-after' })
    await fetch(`${shapeUrl}&offset=-1&where=id>1`)
    await fetch(`${shapeUrl}&offset=-1&where=id>1`)
    expect(proxy.retryAfterGaps.length).toBe(gaps + 1)
    expect(proxy.pendingTimers).toBe(0)
  })
})
