import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import type { NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource } from '../../src/server/sources/memory'

const items = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'title', type: 'text' },
  ],
  rows: [{ id: 1, title: 'one' }],
}

describe('serveNode', () => {
  let server: NodeServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('serves the handler over HTTP and streams SSE events as they happen', async () => {
    const source = createMemorySource({ tables: [items] })
    server = await serveNode(createShapeHandler({ source, sseTimeoutMs: 30_000 }), { port: 0 })
    const snapshot = await fetch(`${server.url}/v1/shape?table=items&offset=-1`)
    expect(snapshot.status).toBe(200)
    expect(snapshot.headers.get('electric-offset')).toBe('0_0')
    const handle = snapshot.headers.get('electric-handle') as string
    expect((await snapshot.json())[0].value).toEqual({ id: '1', title: 'one' })

    const controller = new AbortController()
    const sse = await fetch(`${server.url}/v1/shape?table=items&offset=0_inf&handle=${handle}&live=true&live_sse=true`, {
      signal: controller.signal,
    })
    expect(sse.headers.get('content-type')).toBe('text/event-stream')
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader()
    source.insert('items', { id: 2, title: 'two' })
    let text = ''
    while (!text.includes('up-to-date')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(text).toMatch(/^data: \{"key":"\\"public\\"\.\\"items\\"\/\\"2\\""/)
    controller.abort()
    const health = await fetch(`${server.url}/v1/health`)
    expect(await health.json()).toEqual({ status: 'active' })
  })

  it('aborts the Request signal when the client disconnects from a held request', async () => {
    let aborted: () => void = () => {}
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve))
    let received: () => void = () => {}
    const sawRequest = new Promise<void>((resolve) => (received = resolve))
    server = await serveNode(
      async (request) => {
        received()
        await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve(), { once: true }))
        aborted()
        return new Response('late')
      },
      { port: 0 },
    )
    const client = httpRequest(`${server.url}/v1/shape?x=1`)
    client.on('error', () => {})
    client.end()
    await sawRequest
    client.destroy()
    await sawAbort
  })
})
