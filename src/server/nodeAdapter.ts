/**
 * Serving a web-standard handler on `node:http` (the CLI and the tests use it).
 *
 * Invariants:
 * - A handler that is not a function, or a `port` that is not an integer from 0 to 65535 (decimal text, as from an
 *   environment variable, is read as Node reads it), rejects with `InvalidOptionsError` before anything listens:
 *   Node would take other text as a pipe path and every request would meet a missing handler. So does an empty
 *   `host`, which Node would take as no host at all and listen on every interface instead of the loopback default.
 * - Response bodies are streamed chunk by chunk as the handler produces them (SSE and held long-polls work).
 * - When the client disconnects before the response is complete, the Request's signal aborts, so the handler
 *   frees its waiters and timers.
 * - `close()` stops listening and drops open connections, so a test never waits for a held request.
 * - The request body is handed to the handler as a stream that reads the socket only as the handler reads it (one
 *   chunk ahead at most): nothing is buffered before the handler has authenticated and routed the request, and a
 *   handler that stops reading (a 413) stops the upload. A response that leaves part of a body unread closes the
 *   connection once sent, so the rest is never read.
 * - A request the web `Request` cannot represent gets a 4xx here, never a 500: a method the fetch standard forbids
 *   (`TRACE`, `TRACK`, `CONNECT`) is a 405, a `Host` header that is not a host (and port), or a request target that
 *   is not a path, is a 400; malformed HTTP is a 400 (431 for oversized headers) with a JSON body. Bodies are
 *   Electric's `{message, errors?}`; no error text of the adapter or the handler reaches the client.
 * - Backpressure: after a `res.write()` that returns false, nothing more is read from the response body until the
 *   socket drains, so a client that reads slowly or not at all holds at most the socket's buffer plus one chunk here
 *   (`bufferedBytes()` sums what the open responses hold); the body's own queue then fills and its producer stops
 *   (sseStream.ts backpressure). A body that errors while waiting (an SSE reader cut for lagging) destroys the
 *   connection at once.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { invalidOption } from '../core/internal'
import { SERVER_HEADER_VALUE, SHAPE_METHODS } from './responses'

/**
 * Where `serveNode` listens.
 * @example
 * const options: ServeNodeOptions = { port: 3000, host: '127.0.0.1' }
 */
export interface ServeNodeOptions {
  /** 0 picks a free port. */
  port: number
  host?: string
}

/**
 * A running `serveNode` server.
 * @example
 * const server = await serveNode(handler, { port: 0 })
 * console.log(`${server.url}/v1/shape`)
 * await server.close()
 */
export interface NodeServer {
  /** `http://host:port` (no trailing slash). */
  url: string
  close(): Promise<void>
  /** Bytes written to open responses and not yet handed to the operating system. */
  bufferedBytes(): number
}

/** The port to listen on, once `handler` and `options` are known to be servable (see the invariants above). */
function checkServeOptions(handler: unknown, options: unknown): number {
  if (typeof handler !== 'function') throw invalidOption('serveNode: the handler', 'a function (Request) => Promise<Response>', handler)
  if (typeof options !== 'object' || options === null) throw invalidOption('serveNode options', 'an object with a port', options)
  const { port, host } = options as { port?: unknown; host?: unknown }
  const value = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    throw invalidOption('serveNode option "port"', 'an integer from 0 to 65535', port)
  }
  // Node listens on every interface for an empty host, as if none were given: a dev server must not open up so.
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw invalidOption('serveNode option "host"', "a non-empty string (an address: '0.0.0.0' or '::' for every interface)", host)
  }
  return value
}

/**
 * Serves `handler` on `node:http`.
 * @example
 * const server = await serveNode(createShapeHandler({ source }), { port: 3000 })
 * console.log(`${server.url}/v1/shape`)
 */
export async function serveNode(
  handler: (request: Request) => Promise<Response>,
  options: ServeNodeOptions,
): Promise<NodeServer> {
  const port = checkServeOptions(handler, options)
  const host = options.host ?? '127.0.0.1'
  const open = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    open.add(res)
    res.once('close', () => open.delete(res))
    void handle(handler, req, res, host)
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket))
  // CONNECT never reaches the request listener; without this, Node drops the socket without an answer.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => answerRaw(socket, '405 Method Not Allowed', { message: 'CONNECT not allowed' }, { allow: SHAPE_METHODS }))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    bufferedBytes: () => {
      let bytes = 0
      for (const res of open) bytes += res.writableLength
      return bytes
    },
  }
}

async function handle(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  host: string,
): Promise<void> {
  const controller = new AbortController()
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new DOMException('The client disconnected.', 'AbortError'))
  })
  try {
    const method = req.method ?? 'GET'
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
      return refuse(req, res, 405, { message: `${method} not allowed` }, { allow: SHAPE_METHODS })
    }
    const url = requestUrl(req, host)
    if (typeof url !== 'string') return refuse(req, res, 400, { message: 'Invalid request', errors: url })
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item)
      else if (value !== undefined) headers.set(name, value)
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal }
    if (method !== 'GET' && method !== 'HEAD' && hasBody(req)) {
      init.body = bodyStream(req)
      init.duplex = 'half'
    }
    const request = new Request(url, init)
    const response = await handler(request)
    res.statusCode = response.status
    response.headers.forEach((value, name) => res.setHeader(name, value))
    closeIfBodyUnread(req, res)
    if (!response.body || method === 'HEAD') {
      await response.body?.cancel()
      res.end()
      return
    }
    res.flushHeaders()
    const reader = response.body.getReader()
    controller.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true })
    const drained = drainWaiter(res, reader)
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!res.write(value)) await drained()
    }
    res.end()
  } catch (error) {
    if (controller.signal.aborted) return
    if (!res.headersSent) {
      console.error('live-shapes serveNode:', error)
      refuse(req, res, 500, { message: 'Internal server error' })
    } else {
      res.destroy(error instanceof Error ? error : undefined)
    }
  }
}

/** Methods `new Request` refuses (fetch standard), so they never reach a web handler. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])

/** Answers without the handler, with the error cache headers of the handler's own errors. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('cache-control', 'no-store')
  res.setHeader('electric-server', SERVER_HEADER_VALUE)
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  closeIfBodyUnread(req, res)
  res.end(JSON.stringify(body))
}

/**
 * The absolute URL of the request, or the 400 `errors` that refuse it: the `Host` header must be a host with an
 * optional port and nothing else, the target a path (origin form, even one starting with `//`) or an absolute
 * `http(s)` URL, whose host is ignored.
 */
function requestUrl(req: IncomingMessage, listeningHost: string): string | Record<string, string[]> {
  const hostHeader = req.headers.host ?? (listeningHost.includes(':') ? `[${listeningHost}]` : listeningHost)
  let base: URL
  try {
    base = new URL(`http://${hostHeader}`)
  } catch {
    return { host: ['is invalid'] }
  }
  if (base.host !== hostHeader.toLowerCase() && `${base.host}:80` !== hostHeader.toLowerCase()) return { host: ['is invalid'] }
  const target = req.url ?? '/'
  try {
    // Spliced, not resolved: `//evil.example/x` resolved against the base would change the host.
    if (target.startsWith('/')) return new URL(`${base.origin}${target}`).href
    const absolute = new URL(target)
    if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') return { url: ['is invalid'] }
    return new URL(`${absolute.pathname}${absolute.search}`, base).href
  } catch {
    return { url: ['is invalid'] }
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** The request body as a web stream that reads the socket only when the reader asks (pull), one chunk ahead. */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let finished = false
  const stop = (): void => {
    finished = true
    req.pause()
    req.removeAllListeners('data')
  }
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (finished) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) req.pause()
        })
        req.once('end', () => {
          if (!finished) controller.close()
          finished = true
        })
        req.once('error', (error) => {
          if (!finished) controller.error(error)
          finished = true
        })
        req.pause()
      },
      pull() {
        if (!finished) req.resume()
      },
      cancel() {
        stop()
      },
    },
    { highWaterMark: 1 },
  )
}

/**
 * A response sent while its request's body is unread ends the connection: the rest of an oversized or refused upload
 * is never read, and no later request is parsed out of its bytes.
 */
function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || !hasBody(req) || res.headersSent) return
  // Node ends (and destroys) the socket after a `connection: close` response instead of reading the next request.
  res.setHeader('connection', 'close')
}

/** Malformed HTTP (Node's parser refused it): a JSON 400, or 431 for oversized headers, then the socket closes. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy()
    return
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  if (tooLarge) answerRaw(socket, '431 Request Header Fields Too Large', { message: 'Request headers too large' })
  else answerRaw(socket, '400 Bad Request', { message: 'Bad request' })
}

/** Writes a whole JSON response on a socket no `ServerResponse` owns, and closes it. */
function answerRaw(socket: Socket, status: string, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
      `electric-server: ${SERVER_HEADER_VALUE}\r\n${extra}content-length: ${Buffer.byteLength(text)}\r\n` +
      `connection: close\r\n\r\n${text}`,
  )
}

/**
 * Waits for `res` to drain: `wait()` resolves at 'drain' or 'close', and rejects at once when the body errors
 * (one listener on the body for the whole response, however many times it waits).
 */
function drainWaiter(res: ServerResponse, reader: ReadableStreamDefaultReader<Uint8Array>): () => Promise<void> {
  let failure: { error: unknown } | undefined
  let wake: (() => void) | undefined
  reader.closed.catch((error: unknown) => {
    failure = { error }
    wake?.()
  })
  return async () => {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done)
        res.off('close', done)
        wake = undefined
        resolve()
      }
      wake = done
      res.on('drain', done)
      res.on('close', done)
      if (failure !== undefined) done()
    })
    if (failure !== undefined) throw failure.error
  }
}
