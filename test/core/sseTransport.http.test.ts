/**
 * The SSE transport over a real socket in plain Node (no DOM globals): Node's own `fetch` against a `node:http`
 * server whose writes the test drives, one step at a time, waiting on events rather than time.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSseRequest, type SseBatch } from '../../src/core/sseTransport'
import { change, deferred, event, upToDate } from './sseHelpers'

interface Arrival {
  req: IncomingMessage
  res: ServerResponse
}

let server: Server
let base: string
let arrivals: ((arrival: Arrival) => void)[] = []
const nextArrival = () => new Promise<Arrival>((resolve) => arrivals.push(resolve))

beforeAll(async () => {
  server = createServer((req, res) => {
    const waiter = arrivals.shift()
    if (waiter) waiter({ req, res })
    else res.writeHead(500).end('no test is waiting for this request')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  arrivals = []
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
})

function openStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'public, max-age=59',
    connection: 'keep-alive',
    'electric-handle': 'h1',
    'electric-offset': '100_0',
    'electric-cursor': '4000',
  })
  res.flushHeaders()
}

const clock = { now: () => Date.now() }
const url = () => `${base}/v1/shape?table=items&handle=h1&offset=100_0&live=true&live_sse=true&experimental_live_sse=true&cursor=3980`

describe('runSseRequest over node:http', () => {
  it('streams batches as the server writes them, split across writes, until the server ends the response', async () => {
    const batches: SseBatch[] = []
    let batchArrived = deferred()
    const controller = new AbortController()
    const arrival = nextArrival()
    const ended = runSseRequest({
      fetch: (input, init) => fetch(input, init),
      url: url(),
      offset: '100_0',
      signal: controller.signal,
      clock,
      onBatch: (batch) => {
        batches.push(batch)
        batchArrived.resolve()
      },
    })
    const { req, res } = await arrival
    expect(req.headers.accept).toBe('text/event-stream')
    expect(req.url).toContain('live_sse=true')
    openStream(res)

    const tx1 = [change('200', 0, 'a'), change('200', 2, 'b'), upToDate('200')]
    const text1 = tx1.map(event).join('')
    res.write(text1.slice(0, 40))
    res.write(text1.slice(40))
    await batchArrived.promise
    expect(batches.map((b) => b.messages)).toEqual([tx1])

    batchArrived = deferred()
    const tx2 = [change('300', 0, 'c'), upToDate('300')]
    res.write(': keep-alive\r\n\r\n')
    res.write(tx2.map(event).join('').replaceAll('\n', '\r\n'))
    await batchArrived.promise
    expect(batches.map((b) => b.offset)).toEqual(['200_2', '300_0'])

    res.end()
    expect(await ended).toMatchObject({ reason: 'closed', lastOffset: '300_0' })
  })

  it('abort mid-stream closes the connection the server holds open', async () => {
    const controller = new AbortController()
    const batches: SseBatch[] = []
    const streaming = deferred()
    const arrival = nextArrival()
    const ended = runSseRequest({
      fetch: (input, init) => fetch(input, init),
      url: url(),
      offset: '100_0',
      signal: controller.signal,
      clock,
      onMeta: () => streaming.resolve(),
      onBatch: (batch) => batches.push(batch),
    })
    const { res } = await arrival
    openStream(res)
    const serverSawClose = once(res, 'close')
    res.write(event(change('200', 0, 'a')))
    await streaming.promise
    controller.abort()
    expect(await ended).toMatchObject({ reason: 'aborted', lastOffset: '100_0' })
    await serverSawClose
    expect(res.writableFinished).toBe(false)
    expect(batches).toEqual([])
  })

  it('409 from the server → must-refetch with the new handle', async () => {
    const arrival = nextArrival()
    const ended = runSseRequest({
      fetch: (input, init) => fetch(input, init),
      url: url(),
      offset: '100_0',
      signal: new AbortController().signal,
      clock,
      onBatch: () => undefined,
    })
    const { res } = await arrival
    res.writeHead(409, { 'content-type': 'application/json', 'electric-handle': 'h2' })
    res.end('[{"headers":{"control":"must-refetch"}}]')
    expect(await ended).toMatchObject({ reason: 'must-refetch', handle: 'h2' })
  })
})
