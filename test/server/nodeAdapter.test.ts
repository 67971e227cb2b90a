import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../src/core/errors'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import type { NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource } from '../../src/server/sources/memory'
import { ITEMS as items } from '../core/support/itemsTable'


describe('serveNode', () => {
  it('refuses a handler or port it cannot serve with InvalidOptionsError before listening', async () => {
    const handler = createShapeHandler({ source: createMemorySource() })
    const bad: Array<[unknown, unknown, RegExp]> = [
      [undefined, { port: 0 }, /serveNode: the handler must be a function/],
      [handler, undefined, /serveNode options must be an object/],
      [handler, { port: 'x' }, /"port" must be an integer from 0 to 65535, got "x"/],
      [handler, { port: -1 }, /"port" must be an integer from 0 to 65535, got -1/],
      [handler, { port: 1.5 }, /"port" must be an integer from 0 to 65535/],
      [handler, { port: 0, host: 5 }, /"host" must be a non-empty string/],
      // Node would listen on every interface for an empty host.
      [handler, { port: 0, host: '' }, /"host" must be a non-empty string.*got ""/],
    ]
    for (const [h, options, message] of bad) {
      const served = serveNode(h as never, options as never)
      await expect(served).rejects.toBeInstanceOf(InvalidOptionsError)
      await expect(serveNode(h as never, options as never)).rejects.toThrow(message)
    }
    const fromEnv = await serveNode(handler, { port: '0' as never })
    expect(fromEnv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    await fromEnv.close()
    await handler.close()
  })

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
