/**
 * A seeded fault-injecting HTTP proxy on loopback, in front of the dev shape server: what the fault property tests
 * and the soak test put between `ShapeClient` and `createShapeHandler` + `serveNode`.
 *
 * Rules:
 * - A fault applies to one request. Armed faults are claimed in arming order by the first shape GET whose kind
 *   matches their target; with `chaos` set, a shape GET that no armed fault claims is offered, with probability
 *   `chaos.rate`, a fault drawn from `chaos.faults` by the proxy's seeded `random` (it applies if its target matches). Every other request is forwarded chunk by chunk.
 * - Faults never invent rows: a body is the upstream's own (cut, truncated, buffered, garbled) or an earlier upstream
 *   response (replay); a 409 is the server's own, provoked by deleting the request's shape upstream first.
 * - A replay is keyed on the request URL without `cursor`, `expired_handle` and `cache-buster`, and without `handle`
 *   at `offset=-1` (what a cache that ignores those params serves); the latest 200 response recorded for a key is kept, never an SSE one. So a replay
 *   armed on a `refetch` (`offset=-1` with `expired_handle`) answers with the first response of the shape that just
 *   expired, as a CDN did in Electric's incidents. Being one-shot, it never blocks a client that asks again.
 * - `close()` ends every connection and timer the proxy holds; `openSockets` counts client connections still open
 *   and `pendingTimers` the proxy's own timers, so a soak can see growth in either.
 * - `retryAfterGaps` records, for every injected `retry-after`, how long the client waited before asking for the
 *   same shape again (keyed on the shape definition in the query), and the query of the request it answered, so a
 *   test can check the header was honoured by a client that received it (one that aborted first never saw it).
 */
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { forwardable, MALFORMED_JSON, MALFORMED_SSE, replayKey, seededRandom, shapeOf, targetsOf } from './faultProxyRequests'
import type { FaultKind, FaultProxy, FaultProxyOptions, FaultSpec, FaultTarget, ProxyRecord } from './faultProxyTypes'

export type { ChaosOptions, FaultKind, FaultProxy, FaultProxyOptions, FaultSpec, FaultTarget, ProxyRecord } from './faultProxyTypes'
export { seededRandom } from './faultProxyRequests'

const MAX_RECORDS = 500
const MAX_REPLAYS = 1000
interface Recorded {
  status: number
  headers: OutgoingHttpHeaders
  body: Buffer
}

/**
 * Starts a fault proxy on 127.0.0.1 (free port).
 * @example
 * const proxy = await startFaultProxy({ upstream: server.url, random: seeded(42) })
 * proxy.arm({ kind: 'cut', target: 'sse' })
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let random = options.random
  const maxStallMs = options.maxStallMs ?? 400
  const armed: FaultSpec[] = []
  const counts: Record<string, number> = {}
  const records: ProxyRecord[] = []
  const replays = new Map<string, Recorded>()
  const retryAfterGaps: { expectedMs: number; waitedMs: number; query: string }[] = []
  const retryAfterPending = new Map<string, { at: number; expectedMs: number; query: string }>()
  const sockets = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const finishWaiters = new Set<{ count: number; resolve: () => void }>()
  let finished = 0
  let closed = false

  const later = (ms: number, run: () => void): (() => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timers.add(timer)
    return () => {
      clearTimeout(timer)
      timers.delete(timer)
    }
  }

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

  const claimWaiters = new Set<() => void>()
  const claim = (targets: Set<FaultTarget>): FaultSpec | undefined => {
    const index = armed.findIndex((spec) => targets.has(spec.target ?? 'any'))
    if (index !== -1) {
      const spec = armed.splice(index, 1)[0]
      if (armed.length === 0) for (const resolve of claimWaiters) resolve()
      if (armed.length === 0) claimWaiters.clear()
      return spec
    }
    const chaos = proxy.chaos
    if (chaos === undefined || chaos.faults.length === 0 || random() >= chaos.rate) return undefined
    const spec = pick(chaos.faults)
    return targets.has(spec.target ?? 'any') ? spec : undefined
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const method = req.method ?? 'GET'
    const targets = targetsOf(url, method)
    const spec = targets ? claim(targets) : undefined
    const kind: FaultKind | 'pass' = spec?.kind ?? 'pass'
    const fraction = spec?.fraction ?? random()
    const ms = spec?.ms ?? Math.floor(random() * maxStallMs)
    const shape = targets ? shapeOf(url) : undefined
    let missed = false
    let done = false
    let cancelTimer: (() => void) | undefined

    if (shape !== undefined) {
      const pending = retryAfterPending.get(shape)
      if (pending !== undefined) {
        retryAfterPending.delete(shape)
        retryAfterGaps.push({ expectedMs: pending.expectedMs, waitedMs: Date.now() - pending.at, query: pending.query })
      }
    }

    const finish = (status: number | undefined): void => {
      if (done) return
      done = true
      cancelTimer?.()
      counts[kind] = (counts[kind] ?? 0) + 1
      records.push({ url: url.pathname + url.search, kind, missed, status })
      if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS)
      finished += 1
      for (const waiter of [...finishWaiters]) {
        if (finished < waiter.count) continue
        finishWaiters.delete(waiter)
        waiter.resolve()
      }
    }
    res.on('close', () => finish(res.headersSent ? res.statusCode : undefined))

    const kill = (): void => {
      finish(res.headersSent ? res.statusCode : undefined)
      res.destroy()
      req.socket.destroy()
    }

    switch (kind) {
      case 'drop':
        return kill()
      case 'server-error': {
        const status = pick([500, 502, 503, 504])
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        return void res.end(JSON.stringify({ message: 'injected server error' }))
      }
      case 'retry-after': {
        const seconds = random() < 0.25 ? 1 : 0
        if (shape !== undefined) retryAfterPending.set(shape, { at: Date.now(), expectedMs: seconds * 1000, query: url.search })
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(seconds), 'cache-control': 'no-store' })
        return void res.end(JSON.stringify({ message: 'injected overload' }))
      }
      case 'stall':
        cancelTimer = later(ms, kill)
        return
      case 'hang':
        return
      case 'replay': {
        const recorded = replays.get(replayKey(url))
        if (recorded !== undefined) {
          res.writeHead(recorded.status, { ...recorded.headers, 'content-length': String(recorded.body.length) })
          return void res.end(recorded.body)
        }
        missed = true
        return forward()
      }
      case 'delay':
        cancelTimer = later(ms, forward)
        return
      case 'conflict': {
        const handle = url.searchParams.get('handle')
        if (handle === null) {
          missed = true
          return forward()
        }
        return void deleteUpstream(handle).then(
          (status) => {
            missed = status !== 202
            forward()
          },
          () => {
            missed = true
            forward()
          },
        )
      }
      default:
        return forward()
    }

    function forward(): void {
      if (done || closed) return
      const target = new URL(proxy.upstream)
      const upstreamRequest = httpRequest({
        host: target.hostname,
        port: target.port,
        method,
        path: req.url,
        headers: { ...forwardable(req.headers), host: target.host },
      })
      res.on('close', () => {
        if (!res.writableFinished) upstreamRequest.destroy()
      })
      upstreamRequest.on('error', () => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ message: 'upstream unreachable' }))
        } else res.destroy()
      })
      upstreamRequest.on('response', (upstream) => respond(upstream))
      req.pipe(upstreamRequest)
    }

    function respond(upstream: IncomingMessage): void {
      const status = upstream.statusCode ?? 502
      const headers = forwardable(upstream.headers)
      const isSse = String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream')
      const recordable = status === 200 && !isSse && targets !== undefined && kind === 'pass'
      const mode = kind === 'sse-buffer' && !isSse ? 'pass' : kind

      if (mode === 'pass' || mode === 'replay' || mode === 'conflict' || mode === 'delay') {
        res.writeHead(status, headers)
        res.flushHeaders()
        const chunks: Buffer[] = []
        upstream.on('data', (chunk: Buffer) => {
          if (recordable) chunks.push(chunk)
          res.write(chunk)
        })
        upstream.on('end', () => {
          if (recordable && replays.size < MAX_REPLAYS) {
            const key = replayKey(url)
            replays.set(key, { status, headers, body: Buffer.concat(chunks) })
          }
          res.end()
        })
        upstream.on('error', () => res.destroy())
        return
      }

      if (isSse && (mode === 'cut' || mode === 'truncate')) return cutEvents(upstream, status, headers, mode)
      if (mode === 'silence') {
        res.writeHead(status, headers)
        res.flushHeaders()
        upstream.resume()
        return
      }

      // Buffered faults: the whole upstream body first (a live long-poll ends within the server's timeout).
      const chunks: Buffer[] = []
      upstream.on('data', (chunk: Buffer) => chunks.push(chunk))
      upstream.on('error', () => res.destroy())
      upstream.on('end', () => {
        const body = Buffer.concat(chunks)
        if (mode === 'sse-buffer') {
          res.writeHead(status, { ...headers, 'content-length': String(body.length) })
          return void res.end(body)
        }
        if (mode === 'malformed') {
          const garbage = Buffer.from(pick(isSse ? MALFORMED_SSE : MALFORMED_JSON))
          res.writeHead(status, { ...headers, 'content-length': String(garbage.length) })
          return void res.end(garbage)
        }
        // cut / truncate of a non-SSE body: a strict prefix (an empty body stays empty).
        const prefix = body.subarray(0, Math.max(0, Math.min(body.length - 1, Math.floor(body.length * fraction))))
        if (mode === 'truncate') {
          res.writeHead(status, { ...headers, 'content-length': String(prefix.length) })
          return void res.end(prefix)
        }
        res.writeHead(status, headers)
        res.write(prefix, () => kill())
      })
    }

    /** SSE: whole events up to the cut point, then half of the next one; the socket dies (cut) or ends (truncate). */
    function cutEvents(upstream: IncomingMessage, status: number, headers: OutgoingHttpHeaders, mode: 'cut' | 'truncate'): void {
      const limit = Math.floor(fraction * 4)
      let pending = ''
      let forwarded = 0
      let over = false
      res.writeHead(status, headers)
      res.flushHeaders()
      const stop = (tail: string): void => {
        over = true
        upstream.destroy()
        if (mode === 'truncate') return void res.end(tail)
        res.write(tail, () => kill())
      }
      upstream.setEncoding('utf8')
      upstream.on('data', (text: string) => {
        if (over) return
        pending += text
        let boundary = pending.indexOf('\n\n')
        while (boundary !== -1) {
          const event = pending.slice(0, boundary + 2)
          if (event.startsWith('data:') && forwarded === limit) return stop(event.slice(0, Math.max(1, Math.floor(event.length / 2))))
          if (event.startsWith('data:')) forwarded++
          pending = pending.slice(boundary + 2)
          res.write(event)
          boundary = pending.indexOf('\n\n')
        }
      })
      upstream.on('error', () => res.destroy())
      upstream.on('end', () => {
        if (over) return
        stop(pending.slice(0, Math.floor(pending.length / 2)))
      })
    }
  })

  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  async function deleteUpstream(handle: string): Promise<number> {
    const target = new URL('/v1/shape', proxy.upstream)
    target.searchParams.set('handle', handle)
    for (const [name, value] of Object.entries(options.deleteParams ?? {})) target.searchParams.set(name, value)
    return new Promise<number>((resolve, reject) => {
      const request = httpRequest(target, { method: 'DELETE' }, (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
        response.on('error', reject)
      })
      request.on('error', reject)
      request.end()
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    upstream: options.upstream,
    chaos: undefined,
    reseed(seed) {
      random = seededRandom(seed)
    },
    arm: (spec) => void armed.push(spec),
    calm() {
      armed.length = 0
      for (const resolve of claimWaiters) resolve()
      claimWaiters.clear()
      proxy.chaos = undefined
    },
    get armed() {
      return armed.length
    },
    waitUntilClaimed() {
      if (armed.length === 0) return Promise.resolve()
      return new Promise((resolve) => claimWaiters.add(resolve))
    },
    get finished() {
      return finished
    },
    waitForFinished(count) {
      if (finished >= count) return Promise.resolve()
      return new Promise((resolve) => finishWaiters.add({ count, resolve }))
    },
    counts,
    records,
    retryAfterGaps,
    get openSockets() {
      return sockets.size
    },
    get pendingTimers() {
      return timers.size
    },
    close() {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      for (const waiter of finishWaiters) waiter.resolve()
      finishWaiters.clear()
      for (const resolve of claimWaiters) resolve()
      claimWaiters.clear()
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      })
    },
  }
  return proxy
}
