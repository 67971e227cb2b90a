/**
 * Serving a web-standard handler on `node:http` (the CLI and the tests use it).
 *
 * Invariants:
 * - N1. Response bodies are streamed chunk by chunk as the handler produces them (SSE and held long-polls work).
 * - N2. When the client disconnects before the response is complete, the Request's signal aborts, so the handler
 *   frees its waiters and timers.
 * - N3. `close()` stops listening and drops open connections, so a test never waits for a held request.
 * - Backpressure: after a `res.write()` that returns false, nothing more is read from the response body until the
 *   socket drains, so a client that reads slowly or not at all holds at most the socket's buffer plus one chunk here
 *   (`bufferedBytes()` sums what the open responses hold); the body's own queue then fills and its producer stops
 *   (sseStream.ts backpressure). A body that errors while waiting (an SSE reader cut for lagging) destroys the
 *   connection at once.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ServeNodeOptions {
  /** 0 picks a free port. */
  port: number
  host?: string
}

export interface NodeServer {
  /** `http://host:port` (no trailing slash). */
  url: string
  close(): Promise<void>
  /** Bytes written to open responses and not yet handed to the operating system. */
  bufferedBytes(): number
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
  const host = options.host ?? '127.0.0.1'
  const open = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    open.add(res)
    res.once('close', () => open.delete(res))
    void handle(handler, req, res, host)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
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
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item)
      else if (value !== undefined) headers.set(name, value)
    }
    const method = req.method ?? 'GET'
    const hasBody = method !== 'GET' && method !== 'HEAD'
    const body = hasBody ? await readBody(req) : undefined
    const init: RequestInit = { method, headers, signal: controller.signal }
    if (body && body.length > 0) init.body = new Uint8Array(body)
    const request = new Request(`http://${req.headers.host ?? host}${req.url ?? '/'}`, init)
    const response = await handler(request)
    res.statusCode = response.status
    response.headers.forEach((value, name) => res.setHeader(name, value))
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
      res.statusCode = 500
      res.setHeader('content-type', 'application/json; charset=utf-8')
      res.end(JSON.stringify({ message: `Internal server error: ${String(error)}` }))
    } else {
      res.destroy(error instanceof Error ? error : undefined)
    }
  }
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
