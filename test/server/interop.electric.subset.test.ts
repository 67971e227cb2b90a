/**
 * The official Electric client's on-demand loading against our server (memory source, in-process fetch): a
 * `log: 'changes_only'` ShapeStream whose `Shape` loads rows with `requestSnapshot`, by GET and by POST. The shape
 * holds exactly the subset's rows; a change committed before the snapshot but delivered after it is dropped by the
 * client (its txid is visible in the snapshot metadata), and a change committed after it arrives exactly once.
 */
import { Shape, ShapeStream } from '@electric-sql/client'
import type { Message, Row } from '@electric-sql/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer } from '../../src/testing'
import { itemsTable, parsedItems, shapeRowsSatisfy, sortById } from './support/electricInterop'
import { LiveGate } from './support/liveGate'

const ITEMS = itemsTable([
  { id: 1, title: 'one', n: 1 },
  { id: 2, title: 'two', n: 6 },
  { id: 3, title: 'three', n: 3 },
  { id: 4, title: 'four', n: null },
  { id: 5, title: 'five', n: 2 },
  { id: 6, title: 'six', n: 9 },
])

describe('interop with @electric-sql/client: changes_only + requestSnapshot', () => {
  let server: TestShapeServer
  const controllers: AbortController[] = []
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort()
    await server.close()
  })

  it.each(['GET', 'POST'] as const)('%s: the Shape holds the subset rows; earlier changes are not replayed, later ones arrive once', async (method) => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    const gate = new LiveGate()
    const wire: string[] = []
    const controller = new AbortController()
    controllers.push(controller)
    const stream = new ShapeStream<Row>({
      url: server.url,
      params: { table: 'items' },
      log: 'changes_only',
      signal: controller.signal,
      fetchClient: async (input, init) => {
        const url = new URL(String(input instanceof Request ? input.url : input))
        if (url.searchParams.get('live') === 'true') await gate.pass(init?.signal)
        const response = await server.fetch(input, init)
        if (init?.method !== 'POST' && ![...url.searchParams.keys()].some((name) => name.startsWith('subset__'))) {
          wire.push(await response.clone().text())
        }
        return response
      },
    })
    const delivered: Message<Row>[] = []
    stream.subscribe((messages) => void delivered.push(...messages))
    const shape = new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0])
    expect(await shape.rows).toEqual([])
    await gate.parked()

    // Committed before the snapshot, while the stream is held before reading it.
    server.source.update('items', { id: 3, title: 'three, before' })
    await shape.requestSnapshot({ where: 'n >= $1', params: { '1': 2 }, orderBy: 'n DESC', limit: 3, method })

    const subset = parsedItems(server.source.rows('items'))
      .filter((row) => row.n !== null && (row.n as number) >= 2)
      .sort((a, b) => (b.n as number) - (a.n as number))
      .slice(0, 3)
    expect(sortById(shape.currentRows)).toEqual(sortById(subset))
    expect(subset.map((row) => row.id)).toContain(3)

    // The stream resumes from where it was, reads the earlier update and parks again: the client dropped it.
    await gate.parked()
    expect(wire.some((text) => text.includes('"three, before"') && text.includes('"operation":"update"'))).toBe(true)
    const keyOf = (id: number) => `"public"."items"/"${id}"`
    const forKey = (id: number) => delivered.filter((message) => 'key' in message && message.key === keyOf(id))
    expect(forKey(3).map((message) => message.headers.operation)).toEqual(['insert'])

    // Committed after the snapshot: delivered once.
    server.source.update('items', { id: 3, title: 'three, after' })
    server.source.insert('items', { id: 7, title: 'seven', n: 4 })
    gate.open()
    const expected = sortById([
      ...parsedItems(server.source.rows('items')).filter((row) => subset.some((chosen) => chosen.id === row.id)),
      ...parsedItems(server.source.rows('items')).filter((row) => row.id === 7),
    ])
    const rows = await shapeRowsSatisfy(shape, (current) => JSON.stringify(sortById(current)) === JSON.stringify(expected))
    expect(sortById(rows).find((row) => row.id === 3)?.title).toBe('three, after')
    expect(forKey(3).map((message) => message.headers.operation)).toEqual(['insert', 'update'])
    expect(forKey(7).map((message) => message.headers.operation)).toEqual(['insert'])
    const snapshotInsert = forKey(3)[0]
    expect(snapshotInsert?.headers).toHaveProperty('snapshot_mark')
  })

  it('subsetMethod POST from another origin passes the checks a browser makes (preflight for its JSON content-type)', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    const controller = new AbortController()
    controllers.push(controller)
    const preflights: string[] = []
    let refuse!: (error: Error) => void
    // A browser's fetch fails with a TypeError, which the client retries: the first refusal ends the test.
    const refused = new Promise<never>((_, reject) => (refuse = reject))
    const stream = new ShapeStream<Row>({
      url: server.url,
      params: { table: 'items' },
      log: 'changes_only',
      subsetMethod: 'POST',
      signal: controller.signal,
      fetchClient: crossOriginFetch(server, 'https://app.example', (requested) => preflights.push(requested), refuse),
    })
    const shape = new Shape(stream as unknown as ConstructorParameters<typeof Shape>[0])
    expect(await Promise.race([shape.rows, refused])).toEqual([])
    await Promise.race([shape.requestSnapshot({ where: 'n >= $1', params: { '1': 3 }, orderBy: 'id', limit: 10 }), refused])
    expect(sortById(shape.currentRows).map((row) => row.id)).toEqual([2, 3, 6])
    expect(preflights).toEqual(['POST content-type'])
  })
})

/** Headers a page may send cross-origin without a preflight (Fetch standard, CORS-safelisted request headers). */
function safelisted(name: string, value: string): boolean {
  if (['accept', 'accept-language', 'content-language'].includes(name)) return true
  const type = value.split(';')[0]?.trim().toLowerCase()
  return name === 'content-type' && ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'].includes(type ?? '')
}

/**
 * `server.fetch` as a page on `origin` sees it: a request with a non-simple method or header is preflighted and
 * fails (a `TypeError`, as a browser's fetch) unless the preflight allows it; a response without the origin's
 * `access-control-allow-origin` fails the same way.
 */
function crossOriginFetch(
  server: TestShapeServer,
  origin: string,
  onPreflight: (requested: string) => void,
  onRefused: (error: TypeError) => void,
): typeof fetch {
  const fail = (message: string): never => {
    const error = new TypeError(`Failed to fetch (${message})`)
    onRefused(error)
    throw error
  }
  const allows = (response: Response) => [origin, '*'].includes(response.headers.get('access-control-allow-origin') ?? '')
  return async (input, init) => {
    const request = new Request(input, init)
    const unsafe = [...request.headers].filter(([name, value]) => !safelisted(name, value)).map(([name]) => name).sort()
    if (!['GET', 'HEAD', 'POST'].includes(request.method) || unsafe.length > 0) {
      onPreflight(`${request.method} ${unsafe.join(',')}`)
      const preflight = await server.fetch(
        new Request(request.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': request.method, 'access-control-request-headers': unsafe.join(',') },
        }),
      )
      const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').split(',').map((name) => name.trim().toLowerCase())
      if (!preflight.ok || !allows(preflight) || !unsafe.every((name) => allowedHeaders.includes(name))) {
        fail(`CORS preflight refused ${unsafe.join(',')}`)
      }
    }
    const headers = new Headers(request.headers)
    headers.set('origin', origin)
    const response = await server.fetch(new Request(request, { headers }))
    if (!allows(response)) fail('CORS')
    return response
  }
}
