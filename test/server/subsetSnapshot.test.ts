import { afterEach, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
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
