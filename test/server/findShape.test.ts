import { parseSync } from 'libpg-query'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import type { ShapeHandler } from '../../src/server/handler'
import type { ChangeSource } from '../../src/server/sources/source'
import { createMemoryFixture } from './support/memoryFixture'
import type { SourceFixture } from './support/fixture'
import { SseReader, call, initialSync, liveUntil, shapeUrl } from './support/shapeHttp'
import { wrapSource } from './support/wrapSource'
import type { StreamPosition } from './support/shapeHttp'

// Counts parses of `where` clauses (the whereClause module is loaded by dynamic import, through this mock).
vi.mock('libpg-query', async (importOriginal) => {
  const original = await importOriginal<typeof import('libpg-query')>()
  return { ...original, parseSync: vi.fn(original.parseSync) }
})

/** `source` with its catalog queries counted. */
function counted(source: ChangeSource): { source: ChangeSource; describes: () => number } {
  let describes = 0
  return {
    describes: () => describes,
    source: wrapSource(source, {
      describeTable: (schema, name) => {
        describes += 1
        return source.describeTable(schema, name)
      },
    }),
  }
}

const LONG_POLLS = 40
const SSE_RECONNECTS = 5

describe('requests naming a known shape (findShape: answered without resolving again)', () => {
  const open: { fixture: SourceFixture; handler: ShapeHandler }[] = []
  afterEach(async () => {
    for (const { fixture, handler } of open.splice(0)) {
      await handler.close()
      await fixture.close()
    }
  })

  async function setUp() {
    const fixture = await createMemoryFixture()
    const source = counted(fixture.source)
    const handler = createShapeHandler({ source: source.source, longPollTimeoutMs: 500, sseTimeoutMs: 2_000, keepAliveMs: 1_000, allowDelete: true })
    open.push({ fixture, handler })
    const table = await fixture.createTable({
      name: 'items',
      columns: [
        { name: 'id', type: 'int4', primaryKey: true },
        { name: 'n', type: 'int4' },
      ],
    })
    vi.mocked(parseSync).mockClear()
    return { fixture, handler, table, describes: source.describes, parses: () => vi.mocked(parseSync).mock.calls.length }
  }

  it(`neither describes the table nor parses the where after the sync: ${LONG_POLLS} long-polls, ${SSE_RECONNECTS} SSE reconnects`, async () => {
    const { fixture, handler, table, describes, parses } = await setUp()
    const params = { table, where: 'n >= $1', 'params[1]': '0' }
    let { position } = await initialSync(handler, params)
    // The offset=-1 request resolved the definition; the memory source compiles the rendered where for its snapshot.
    const atSync = { describes: describes(), parses: parses() }
    expect(atSync).toEqual({ describes: 1, parses: 2 })
    for (let id = 1; id <= LONG_POLLS; id++) {
      await fixture.insert(table, { id, n: id })
      ;({ position } = await liveUntil(handler, params, position, (changes) => changes.length === 1))
    }
    for (let id = LONG_POLLS + 1; id <= LONG_POLLS + SSE_RECONNECTS; id++) {
      position = await sseChange(handler, params, position, () => fixture.insert(table, { id, n: id }))
    }
    expect({ describes: describes(), parses: parses() }).toEqual(atSync)
  })

  it('resolves again for a deleted shape (409 with the new handle) and for another spelling, then reuses both', async () => {
    const { handler, table, describes, parses } = await setUp()
    const params = { table, where: 'n >= 0' }
    const { position } = await initialSync(handler, params)
    expect(await handler(new Request(shapeUrl({ table, handle: position.handle, where: 'n >= 0' }), { method: 'DELETE' }))).toHaveProperty('status', 202)
    const afterDelete = { describes: describes(), parses: parses() }
    const stale = await call(handler, shapeUrl({ ...params, offset: position.offset, handle: position.handle }))
    expect(stale.status).toBe(409)
    const fresh = stale.headers.get('electric-handle') as string
    expect(fresh).not.toBe(position.handle)
    // Resolved for the request, compiled again by the memory source for the new shape's snapshot.
    const recreated = { describes: describes(), parses: parses() }
    expect(recreated).toEqual({ describes: afterDelete.describes + 1, parses: afterDelete.parses + 2 })
    for (const where of ['n >= 0', 'n>=0', 'n >= 0', 'n>=0']) {
      const response = await call(handler, shapeUrl({ table, where, offset: '0_0', handle: fresh }))
      expect(response.status).toBe(200)
      expect(response.headers.get('electric-handle')).toBe(fresh)
    }
    // The 409's resolution taught the new shape the first spelling; the second resolves once, then is known too.
    expect({ describes: describes(), parses: parses() }).toEqual({ describes: recreated.describes + 1, parses: recreated.parses + 1 })
  })
})

describe('a source that gave up for good (findShape, source.ts `failure()`)', () => {
  it('its known shapes are not served as up to date: the request meets the source error, and the shape is gone', async () => {
    const fixture = await createMemoryFixture()
    const lost = new Error('replication stream lost for good')
    let failed = false
    const inner = fixture.source
    const source = wrapSource(inner, {
      describeTable: (schema, name) => (failed ? Promise.reject(lost) : inner.describeTable(schema, name)),
      snapshot: (request) => (failed ? Promise.reject(lost) : inner.snapshot(request)),
      failure: () => (failed ? lost : undefined),
    })
    const reported: unknown[] = []
    const handler = createShapeHandler({
      source,
      longPollTimeoutMs: 500,
      sseTimeoutMs: 2_000,
      keepAliveMs: 1_000,
      onError: (error) => reported.push(error),
    })
    try {
      const table = await fixture.createTable({ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
      const { position } = await initialSync(handler, { table })
      const catchUp = shapeUrl({ table, offset: position.offset, handle: position.handle })
      expect((await call(handler, catchUp)).status).toBe(200)
      failed = true
      const refused = await call(handler, catchUp)
      expect(refused.status).toBe(503)
      // The source's error goes to onError, never into the response.
      expect(refused.text).not.toContain('replication stream lost for good')
      expect(reported).toContain(lost)
      failed = false
      // The frozen shape was deleted: the handle is stale now, and the definition gets a new shape.
      const after = await call(handler, catchUp)
      expect(after.status).toBe(409)
      expect(after.headers.get('electric-handle')).not.toBe(position.handle)
    } finally {
      await handler.close()
      await fixture.close()
    }
  })
})

describe('a client that leaves while its shape is being created (findShape)', () => {
  it('is not reported to onError: a disconnect is no server failure', async () => {
    const fixture = await createMemoryFixture()
    const table = await fixture.createTable({ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    let snapshotStarted!: () => void
    const started = new Promise<void>((resolve) => (snapshotStarted = resolve))
    const source = wrapSource(fixture.source, {
      // The snapshot ends only when the creation is aborted (the last waiting request left).
      snapshot: (request) => {
        snapshotStarted()
        return new Promise((_resolve, reject) => {
          const signal = request.signal as AbortSignal
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        })
      },
    })
    const onError = vi.fn()
    const handler = createShapeHandler({ source, onError })
    try {
      const client = new AbortController()
      const response = handler(new Request(shapeUrl({ table, offset: '-1' }), { signal: client.signal }))
      await started
      client.abort(new DOMException('The client disconnected.', 'AbortError'))
      await response
      expect(onError).not.toHaveBeenCalled()
    } finally {
      await handler.close()
      await fixture.close()
    }
  })
})

/** One SSE connection at the head: `write` commits, the stream carries it and its up-to-date; then disconnects. */
async function sseChange(
  handler: ShapeHandler,
  params: Record<string, string>,
  position: StreamPosition,
  write: () => Promise<void>,
): Promise<StreamPosition> {
  const response = await handler(
    new Request(shapeUrl({ ...params, offset: position.offset, handle: position.handle, live: 'true', live_sse: 'true' })),
  )
  expect(response.status).toBe(200)
  const reader = new SseReader(response.body as ReadableStream<Uint8Array>)
  await write()
  expect(await reader.until((text) => text.includes('"control":"up-to-date"'))).toBe(true)
  await reader.cancel()
  const upToDate = reader.events().find((event) => event.headers.control === 'up-to-date')
  return { ...position, offset: `${upToDate?.headers.global_last_seen_lsn as string}_0` }
}
