/**
 * A loopback HTTP proxy for tests that misbehaves with `text/event-stream` responses the way real middleboxes do.
 *
 * Rules:
 * - Modes apply to SSE responses only (content type `text/event-stream`); every other response is forwarded as
 *   it comes. The mode is read when the upstream's headers arrive, so changing it affects the next responses.
 * - `pass` forwards headers and body chunks as they arrive.
 * - `buffer` holds the status, headers and body until the upstream ends, then sends them all at once (a buffering
 *   proxy): the client sees a connection that lasts as long as the upstream stream and delivers everything at its end.
 * - `cut` forwards the headers and the first `cutAfterEvents` `data:` events (whole events, flushed), then destroys
 *   the client socket and the upstream request, so the response breaks mid-stream. It is one-shot: the cut response
 *   switches the mode back to `pass` (a dropped connection, not a broken network path).
 * - Every response is recorded when its headers reach the client (`opened`) and once it is over (`records`), with
 *   how it ended; `waitForOpen` / `waitFor` resolve on the first such record matching a predicate, event-driven.
 */
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the proxy treats SSE responses. */
export type SseProxyMode = 'pass' | 'buffer' | 'cut'

/** One proxied response, recorded when it is over. */
export interface ProxyRecord {
  /** The request URL as the client sent it (path and query, on the proxy's origin). */
  readonly url: URL
  readonly method: string
  readonly status: number
  readonly contentType: string | null
  /** The mode applied to it (`pass` for non-SSE responses). */
  readonly mode: SseProxyMode
  /** `data:` events forwarded to the client. */
  readonly forwardedEvents: number
  /** How it ended for the client: complete, cut by the proxy, or abandoned by the client. */
  readonly end: 'complete' | 'cut' | 'client-closed'
}

/** A response whose headers were forwarded. */
export type OpenedRecord = Pick<ProxyRecord, 'url' | 'method' | 'status' | 'contentType' | 'mode'>

/** A running proxy; `mode` and `cutAfterEvents` can be changed at any time. */
export interface SseProxy {
  /** `http://127.0.0.1:port`, no trailing slash. */
  readonly url: string
  mode: SseProxyMode
  cutAfterEvents: number
  readonly records: readonly ProxyRecord[]
  readonly opened: readonly OpenedRecord[]
  waitFor(predicate: (record: ProxyRecord) => boolean): Promise<ProxyRecord>
  waitForOpen(predicate: (record: OpenedRecord) => boolean): Promise<OpenedRecord>
  close(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'])

function forwardableHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value
  return out
}

/**
 * Starts a proxy on 127.0.0.1 (free port) in front of `upstream` (`http://host:port`).
 * @example
 * const proxy = await startSseProxy(server.url, { mode: 'buffer' })
 * client.shape({ url: `${proxy.url}/v1/shape`, params: { table: 'items' } })
 */
export async function startSseProxy(
  upstream: string,
  options: { mode?: SseProxyMode; cutAfterEvents?: number } = {},
): Promise<SseProxy> {
  const target = new URL(upstream)
  const records = recordList<ProxyRecord>()
  const opened = recordList<OpenedRecord>()

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
    const method = req.method ?? 'GET'
    const upstreamRequest = httpRequest({
      host: target.hostname,
      port: target.port,
      method,
      path: req.url,
      headers: { ...forwardableHeaders(req.headers), host: target.host },
    })
    let settled = false
    const finish = (entry: Omit<ProxyRecord, 'url' | 'method'>): void => {
      if (settled) return
      settled = true
      records.add({ url, method, ...entry })
    }
    res.on('close', () => {
      if (res.writableFinished) return
      upstreamRequest.destroy()
    })
    upstreamRequest.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end()
      else res.destroy()
    })
    upstreamRequest.on('response', (upstreamResponse) => {
      const status = upstreamResponse.statusCode ?? 502
      const contentType = upstreamResponse.headers['content-type'] ?? null
      const headers = forwardableHeaders(upstreamResponse.headers)
      const isSse = contentType?.startsWith('text/event-stream') ?? false
      const applied: SseProxyMode = isSse ? proxy.mode : 'pass'
      const base = { status, contentType, mode: applied }
      const open = (): void => opened.add({ url, method, ...base })
      res.on('close', () => {
        if (!res.writableFinished) finish({ ...base, forwardedEvents: countEvents(sent), end: 'client-closed' })
      })
      let sent = ''

      if (applied === 'buffer') {
        const chunks: Buffer[] = []
        upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk))
        upstreamResponse.on('end', () => {
          const body = Buffer.concat(chunks)
          sent = body.toString('utf8')
          res.writeHead(status, { ...headers, 'content-length': String(body.length) })
          open()
          res.end(body, () => finish({ ...base, forwardedEvents: countEvents(sent), end: 'complete' }))
        })
        return
      }

      res.writeHead(status, headers)
      res.flushHeaders()
      open()
      if (applied === 'pass') {
        upstreamResponse.on('data', (chunk: Buffer) => {
          sent += chunk.toString('utf8')
          res.write(chunk)
        })
        upstreamResponse.on('end', () => res.end(() => finish({ ...base, forwardedEvents: countEvents(sent), end: 'complete' })))
        return
      }

      // cut: forward whole events until the limit, then break the connection.
      proxy.mode = 'pass'
      const limit = proxy.cutAfterEvents
      let pending = ''
      let forwarded = 0
      let cut = false
      upstreamResponse.setEncoding('utf8')
      upstreamResponse.on('data', (text: string) => {
        if (cut) return
        pending += text
        let boundary = pending.indexOf('\n\n')
        while (boundary !== -1) {
          const event = pending.slice(0, boundary + 2)
          pending = pending.slice(boundary + 2)
          if (event.startsWith('data:')) {
            if (forwarded === limit) {
              cut = true
              upstreamRequest.destroy()
              finish({ ...base, forwardedEvents: forwarded, end: 'cut' })
              // Flush what was forwarded first, so the client really holds a partial batch when the socket dies.
              res.write('', () => res.destroy())
              return
            }
            forwarded++
          }
          sent += event
          res.write(event)
          boundary = pending.indexOf('\n\n')
        }
      })
      upstreamResponse.on('end', () => {
        if (cut) return
        res.end(pending, () => finish({ ...base, forwardedEvents: forwarded, end: 'complete' }))
      })
    })
    req.pipe(upstreamRequest)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  const proxy: SseProxy = {
    url: `http://127.0.0.1:${port}`,
    mode: options.mode ?? 'pass',
    cutAfterEvents: options.cutAfterEvents ?? 1,
    records: records.items,
    opened: opened.items,
    waitFor: (predicate) => records.waitFor(predicate),
    waitForOpen: (predicate) => opened.waitFor(predicate),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  return proxy
}

function countEvents(text: string): number {
  return text.split('\n\n').filter((event) => event.startsWith('data:')).length
}

/** An append-only list whose `waitFor` resolves on the first item, present or future, matching a predicate. */
function recordList<T>(): { items: T[]; add(item: T): void; waitFor(predicate: (item: T) => boolean): Promise<T> } {
  const items: T[] = []
  const waiters = new Set<{ predicate: (item: T) => boolean; resolve: (item: T) => void }>()
  return {
    items,
    add(item) {
      items.push(item)
      for (const waiter of [...waiters]) {
        if (!waiter.predicate(item)) continue
        waiters.delete(waiter)
        waiter.resolve(item)
      }
    },
    waitFor(predicate) {
      const found = items.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.add({ predicate, resolve }))
    },
  }
}
