/**
 * The node adapter under requests a web `Request` cannot hold or a handler must not buffer: raw sockets for
 * malformed HTTP, streamed uploads for the body cap. Every answer is a 4xx with a JSON body, never a 500.
 */
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import type { NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource } from '../../src/server/sources/memory'
import { INTERNAL_TEXT } from './support/hostileCorpus'

const items = { name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }], rows: [{ id: 1 }] }

/** Sends `raw` on a fresh socket and resolves with everything the server wrote before closing it. */
function rawExchange(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(raw))
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('close', () => resolve(received))
    socket.on('error', (error) => (received === '' ? reject(error) : resolve(received)))
  })
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)
}

function bodyOf(response: string): string {
  const split = response.indexOf('\r\n\r\n')
  const body = response.slice(split + 4)
  if (!/\r\ntransfer-encoding: chunked\r\n/i.test(response.slice(0, split + 2))) return body
  let text = ''
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at)
    const size = parseInt(body.slice(at, lineEnd), 16)
    if (!(size > 0)) return text
    text += body.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}

/**
 * POSTs a body of `chunkBytes` chunks, written as fast as the socket takes them, until a response arrives or
 * `limitBytes` were written; resolves with the status and how much was written by then.
 */
function streamUpload(
  url: string,
  options: { chunkBytes: number; limitBytes: number; headers?: Record<string, string> },
): Promise<{ status: number; written: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    let written = 0
    let answered = false
    const chunk = Buffer.alloc(options.chunkBytes, 0x20)
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers } })
    request.on('response', (response) => {
      answered = true
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (text: string) => (body += text))
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, written, body, connection: response.headers.connection }),
      )
      response.on('error', reject)
    })
    request.on('error', (error) => {
      if (!answered) reject(error)
    })
    const pump = (): void => {
      while (!answered && written < options.limitBytes) {
        written += chunk.length
        if (!request.write(chunk)) {
          request.once('drain', pump)
          return
        }
      }
      if (!answered) request.end()
    }
    request.write('{"where":"')
    pump()
  })
}

describe('the node adapter under hostile HTTP', () => {
  let server: NodeServer
  let secured: NodeServer
  beforeAll(async () => {
    server = await serveNode(createShapeHandler({ source: createMemorySource({ tables: [items] }) }), { port: 0 })
    secured = await serveNode(createShapeHandler({ source: createMemorySource({ tables: [items] }), secret: 's3cret' }), { port: 0 })
  })
  afterAll(async () => {
    await server.close()
    await secured.close()
  })

  it.each(['TRACE', 'CONNECT'])('%s, which a web Request cannot carry, is a 405 with allow and a JSON body', async (method) => {
    const target = method === 'CONNECT' ? 'localhost:5432' : '/v1/shape?table=items&offset=-1'
    const response = await rawExchange(server.url, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    expect(statusOf(response), response).toBe(405)
    expect(response).toMatch(/\r\nallow: GET, POST, HEAD, DELETE, OPTIONS\r\n/i)
    expect(JSON.parse(bodyOf(response))).toEqual({ message: `${method} not allowed` })
  })

  it.each([
    ['a space', 'a b'],
    ['a path', 'evil.example/x'],
    ['user info', 'user@evil.example'],
    ['an unclosed IPv6 bracket', '[::1'],
    ['a port that is not a number', 'localhost:http'],
  ])('a Host header with %s is a 400 naming the host', async (_name, host) => {
    const response = await rawExchange(server.url, `GET /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
    expect(statusOf(response), response).toBe(400)
    expect(JSON.parse(bodyOf(response))).toEqual({ message: 'Invalid request', errors: { host: ['is invalid'] } })
  })

  it.each([
    ['an asterisk', 'OPTIONS', '*'],
    ['a non-HTTP absolute target', 'GET', 'file:///etc/passwd'],
  ])('a request target that is %s is a 400', async (_name, method, target) => {
    const response = await rawExchange(server.url, `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    expect(statusOf(response), response).toBe(400)
    expect(JSON.parse(bodyOf(response))).toMatchObject({ message: 'Invalid request' })
  })

  it.each([
    ['an absolute-form target', 'http://other.example/v1/health'],
    ['a path starting with //', '//other.example/v1/health'],
  ])('%s is served by its path, never as another host', async (_name, target) => {
    const response = await rawExchange(server.url, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)
    expect(statusOf(response), response).toBe(200)
  })

  it.each([
    ['a request line that is not HTTP', 400, 'GARBAGE\r\n\r\n'],
    ['a method HTTP does not know (TRACK)', 400, 'TRACK /v1/shape HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a header without a colon', 400, 'GET /v1/health HTTP/1.1\r\nHost: localhost\r\nbroken header\r\n\r\n'],
    ['headers past the parser limit', 431, `GET /v1/health HTTP/1.1\r\nHost: localhost\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`],
  ])('malformed HTTP (%s) is a JSON %i, not a dropped connection or a 500', async (_name, status, raw) => {
    const response = await rawExchange(server.url, raw)
    expect(statusOf(response), response).toBe(status)
    expect(JSON.parse(bodyOf(response))).toHaveProperty('message')
    expect(response).not.toMatch(INTERNAL_TEXT)
  })

  it('a declared content-length over the cap is a 413 before any of the body is sent', async () => {
    const response = await rawExchange(
      server.url,
      'POST /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n' +
        `content-length: ${1024 * 1024 * 1024}\r\n\r\n`,
    )
    expect(statusOf(response), response).toBe(413)
    expect(response).toMatch(/\r\nconnection: close\r\n/i)
    expect(JSON.parse(bodyOf(response))).toEqual({
      message: 'Request body too large',
      errors: { body: [`must be at most ${1024 * 1024} bytes`] },
    })
  })

  it('a declared content-length without the secret is a 401 before any of the body is sent', async () => {
    const response = await rawExchange(
      secured.url,
      `POST /v1/shape?table=items&offset=-1 HTTP/1.1\r\nHost: localhost\r\ncontent-length: ${1024 * 1024 * 1024}\r\n\r\n`,
    )
    expect(statusOf(response), response).toBe(401)
    expect(response).toMatch(/\r\nconnection: close\r\n/i)
  })

  it('a streamed (chunked) upload is answered 413 while it is still being sent, and the connection closes', async () => {
    const limitBytes = 256 * 1024 * 1024
    const result = await streamUpload(`${server.url}/v1/shape?table=items&offset=-1`, { chunkBytes: 64 * 1024, limitBytes })
    expect(result.status, result.body).toBe(413)
    // Answered long before the upload could end: the server stopped reading at the cap instead of buffering it all.
    expect(result.written).toBeLessThan(limitBytes)
    expect(result.connection).toBe('close')
  })

  it('a body under the cap is read whole and served', async () => {
    const response = await fetch(`${server.url}/v1/shape?table=items&offset=-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // 500 KiB of JSON whitespace: a large body under the cap, with a where under the where limit.
      body: `{"where": "id = 1 OR id = 2"${' '.repeat(500 * 1024)}}`,
    })
    expect(response.status, await response.clone().text()).toBe(200)
    expect((await response.json()).data).toHaveLength(1)
  })
})
