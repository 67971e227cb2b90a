/**
 * Serving a web-standard handler on `node:http` (the CLI and the tests use it).
 *
 * Invariants:
 * - N1. Response bodies are streamed chunk by chunk as the handler produces them (SSE and held long-polls work).
 * - N2. When the client disconnects before the response is complete, the Request's signal aborts, so the handler
 *   frees its waiters and timers.
 * - N3. `close()` stops listening and drops open connections, so a test never waits for a held request.
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
  const server = createServer((req, res) => {
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
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      res.write(value)
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
