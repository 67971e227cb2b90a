/**
 * The client against a real `node:http` server that scripts protocol responses: proves core runs in plain Node with
 * the platform `fetch`, the real clock and no DOM globals.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import { change, HANDLE, snapshotEnd, snapshotRow, upToDate } from './support/fakeShapeServer'

const schema = JSON.stringify({ id: { type: 'int4', pk_index: 0 }, title: { type: 'text' } })
const seen: URLSearchParams[] = []
let releaseLive: (() => void) | undefined
const arrivals: Array<{ count: number; resolve: () => void }> = []

/** Resolves once the server has received `count` requests. */
function requestsReceived(count: number): Promise<void> {
  if (seen.length >= count) return Promise.resolve()
  return new Promise((resolve) => arrivals.push({ count, resolve }))
}
let server: ReturnType<typeof createServer>
let base = ''

function send(res: ServerResponse, body: unknown, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'electric-handle': HANDLE, 'electric-has-data': 'true', ...headers })
  res.end(JSON.stringify(body))
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams
  seen.push(params)
  for (const arrival of arrivals.filter((a) => a.count <= seen.length)) {
    arrivals.splice(arrivals.indexOf(arrival), 1)
    arrival.resolve()
  }
  const offset = params.get('offset')
  if (offset === '-1') return send(res, [snapshotRow(1, 'from node'), snapshotEnd()], { 'electric-offset': '0_0', 'electric-schema': schema })
  if (offset === '0_0') return send(res, [upToDate('10')], { 'electric-offset': '0_inf', 'electric-schema': schema, 'electric-up-to-date': '' })
  if (offset === '0_inf' && params.get('live') === 'true') {
    // Held like a real long-poll until the test releases it.
    releaseLive = () =>
      send(res, [change({ operation: 'insert', id: 2, title: 'live', lsn: '11', opPosition: 0, last: true }), upToDate('11')], {
        'electric-offset': '11_0',
        'electric-cursor': '20',
        'electric-up-to-date': '',
      })
    return
  }
  // Later live requests are held until the client aborts them.
  req.on('close', () => res.destroy())
}

beforeAll(async () => {
  server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/shape`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('core in plain Node', () => {
  it('has no DOM globals in this environment', () => {
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined')
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined')
  })

  it('syncs, goes live and stops against a node:http server', async () => {
    const client = new ShapeClient()
    const shape = client.shape({ url: base, params: { table: 'items' } })
    const release = shape.retain()
    await shape.whenUpToDate()
    expect(shape.getSnapshot().data).toEqual([{ id: 1, title: 'from node' }])

    const changed = new Promise<void>((resolve) => {
      const unsubscribe = shape.subscribe(() => {
        unsubscribe()
        resolve()
      })
    })
    await requestsReceived(3)
    releaseLive?.()
    await changed
    expect(shape.getSnapshot().data).toEqual([
      { id: 1, title: 'from node' },
      { id: 2, title: 'live' },
    ])
    expect(shape.getStatus()).toMatchObject({ phase: 'live', offset: '11_0', cursor: '20' })
    await requestsReceived(4)
    expect(seen.map((p) => ({ offset: p.get('offset'), live: p.get('live'), cursor: p.get('cursor') }))).toEqual([
      { offset: '-1', live: null, cursor: null },
      { offset: '0_0', live: null, cursor: null },
      { offset: '0_inf', live: 'true', cursor: null },
      { offset: '11_0', live: 'true', cursor: '20' },
    ])
    release()
    client.dispose()
    expect(client.size).toBe(0)
  })
})
