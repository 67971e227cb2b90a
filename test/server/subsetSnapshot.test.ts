import { afterEach, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { createMemorySource } from '../../src/server/sources/memory'
import { TableChangedError } from '../../src/server/sources/describeTable'
import type { ShapeHandler } from '../../src/server/handler'
import type { ChangeSource, SnapshotRequest } from '../../src/server/sources/source'
import { createMemoryFixture } from './support/memoryFixture'
import type { SourceFixture } from './support/fixture'
import { call, initialSync, shapeUrl } from './support/shapeHttp'
import { wrapSource } from './support/wrapSource'

/** `source` whose subset snapshots (those with an ORDER BY) reject with `error`; shape snapshots still work. */
function failingSubsets(source: ChangeSource, error: unknown): ChangeSource {
  return wrapSource(source, {
    snapshot: (request: SnapshotRequest) => (request.orderBy === undefined ? source.snapshot(request) : Promise.reject(error)),
  })
}

describe('subset snapshot failures (subsetSnapshot.ts: a data exception is a 400, anything else a 503)', () => {
  const open: { fixture: SourceFixture; handler: ShapeHandler }[] = []
  const reported: unknown[] = []
  afterEach(async () => {
    reported.length = 0
    for (const { fixture, handler } of open.splice(0)) {
      await handler.close()
      await fixture.close()
    }
  })

  async function setUp(error: unknown) {
    const fixture = await createMemoryFixture()
    const table = await fixture.createTable({ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] })
    await fixture.insert(table, { id: 1 })
    const handler = createShapeHandler({ source: failingSubsets(fixture.source, error), onError: (cause) => reported.push(cause) })
    open.push({ fixture, handler })
    const { position } = await initialSync(handler, { table })
    return { handler, url: shapeUrl({ table, offset: position.offset, handle: position.handle, subset__order_by: 'id' }) }
  }

  it('a failure that is not a data exception → 503 with retry-after, not a 500', async () => {
    const { handler, url } = await setUp(Object.assign(new Error('terminating connection'), { code: '57P01' }))
    const response = await call(handler, url)
    expect(response.status, response.text).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    // The database's text goes to onError, never to the client (handler.ts: unexpected failures become a 500 with a
    // generic message).
    expect(response.text).not.toContain('terminating connection')
    expect(String(reported[0])).toContain('terminating connection')
  })

  it('a snapshot refused because the table changed → 503, and the shape is deleted so the retry gets 409', async () => {
    const { handler, url } = await setUp(new TableChangedError({ schema: 'public', name: 'items' }))
    const response = await call(handler, url)
    expect(response.status, response.text).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    const retry = await call(handler, url)
    expect(retry.status, retry.text).toBe(409)
  })

  it("a database error of SQLSTATE class 22 → 400 errors.subset.where with the database's message", async () => {
    const { handler, url } = await setUp(Object.assign(new Error('value out of range for type integer'), { code: '22003' }))
    const response = await call(handler, url)
    expect(response.status, response.text).toBe(400)
    expect(response.body).toEqual({ message: 'Invalid request', errors: { subset: { where: ['value out of range for type integer'] } } })
  })
})

describe('subset snapshot size (subsetSnapshot.ts: an answer is bounded before it is built)', () => {
  const handlers: ShapeHandler[] = []
  afterEach(async () => {
    for (const handler of handlers.splice(0)) await handler.close()
  })

  /** A handler on a memory table `big` of `count` rows, recording the `limit` of every snapshot the source is asked for. */
  function bigTable(count: number, options: Partial<Parameters<typeof createShapeHandler>[0]> = {}) {
    const rows = Array.from({ length: count }, (_, index) => ({ id: index + 1, title: `row ${index + 1}` }))
    const source = createMemorySource({
      tables: [{ name: 'big', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }], rows }],
    })
    const limits: (number | undefined)[] = []
    const recording = wrapSource(source, {
      snapshot: (request: SnapshotRequest) => {
        // The changes_only shape's own snapshot reads no rows (limit 0): only the subsets' are recorded.
        if (request.limit !== 0) limits.push(request.limit)
        return source.snapshot(request)
      },
    })
    const handler = createShapeHandler({ source: recording, ...options })
    handlers.push(handler)
    const subset = (fields: Record<string, string>) =>
      call(handler, shapeUrl({ table: 'big', offset: '-1', log: 'changes_only', ...fields }))
    return { subset, limits }
  }
  const refusedForSize = (reason: RegExp) => ({
    message: 'Invalid request',
    errors: { subset: { limit: [expect.stringMatching(reason)] } },
  })

  it('by default, a subset matching more than 10 000 rows → 400 errors.subset.limit, and the source reads 10 001 at most', async () => {
    const { subset, limits } = bigTable(10_050)
    const all = await subset({ subset__where: 'id > 0' })
    expect(all.status, all.text.slice(0, 200)).toBe(400)
    expect(all.body).toEqual(refusedForSize(/more than 10000 rows match.*limit \(and order_by\) and page with offset/))
    expect(all.headers.get('cache-control')).toBe('no-store')
    expect(limits).toEqual([10_001])
    // Within the bound, by limit or by where, the answer is whole; a larger limit that few rows fill is answered too.
    const page = await subset({ subset__order_by: 'id', subset__limit: '10000' })
    expect(page.status).toBe(200)
    expect(page.body.data).toHaveLength(10_000)
    const few = await subset({ subset__where: 'id <= 5' })
    expect(few.body.data).toHaveLength(5)
    const last = await subset({ subset__order_by: 'id', subset__limit: '20000', subset__offset: '10000' })
    expect(last.status).toBe(200)
    expect((last.body.data as { value: { id: string } }[]).map((message) => message.value.id)).toEqual(
      Array.from({ length: 50 }, (_, index) => String(10_001 + index)),
    )
    expect(limits.slice(1)).toEqual([10_000, 10_001, 10_001])
  })

  it('maxSubsetRows and maxSubsetBytes bound it (GET and POST alike)', async () => {
    const { subset } = bigTable(20, { maxSubsetRows: 3, maxSubsetBytes: 1_000 })
    expect((await subset({ subset__where: 'id <= 3' })).body.data).toHaveLength(3)
    expect((await subset({ subset__where: 'id <= 4' })).body).toEqual(refusedForSize(/more than 3 rows match/))
    const wide = bigTable(20, { maxSubsetRows: 100, maxSubsetBytes: 1_000 })
    const bytes = await wide.subset({ subset__order_by: 'id', subset__limit: '100' })
    expect(bytes.status).toBe(400)
    expect(bytes.body).toEqual(refusedForSize(/more than 1000 bytes of JSON.*Ask for at most \d rows/))
    const handler = createShapeHandler({ source: createMemorySource({ tables: [{ name: 'big', columns: [{ name: 'id', type: 'int4', primaryKey: true }], rows: [{ id: 1 }, { id: 2 }] }] }), maxSubsetRows: 1 })
    handlers.push(handler)
    const post = await call(handler, shapeUrl({ table: 'big', offset: '-1' }), { method: 'POST', body: '{}' })
    expect(post.body).toEqual(refusedForSize(/more than 1 row match.*Ask for at most 1 row with limit/))
    expect(() => createShapeHandler({ source: createMemorySource(), maxSubsetRows: 0 })).toThrow(/maxSubsetRows/)
  })
})
