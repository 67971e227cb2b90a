/**
 * PGlite's side of the resource bounds, sharing one instance: shape eviction with a real source, and aborting a
 * snapshot.
 *
 * Aborting a snapshot on PGlite (pglite.ts, source.ts): PGlite runs one query at a time, so a snapshot queued
 * behind other work stops waiting at once when its request aborts, starts no query afterwards, and the source keeps
 * working. Ordering, not timing: the abort settles the snapshot while the work ahead of it is still open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { createPGliteSource, type PGliteSource } from '../../src/server/sources/pglite'
import type { TableDescription } from '../../src/server/sources/source'

let source: PGliteSource
let table: TableDescription

beforeAll(async () => {
  source = await createPGliteSource()
  await source.db.exec(`CREATE TABLE abort_items (id int8 PRIMARY KEY, title text);
    INSERT INTO abort_items SELECT n, 'row ' || n FROM generate_series(1, 3) AS n`)
  table = (await source.describeTable('public', 'abort_items')) as TableDescription
}, 60_000)

afterAll(() => source.close())

describe('PGlite snapshot abort', () => {
  it('stops waiting at the abort while queued behind an open transaction, and the source keeps working', async () => {
    let releaseBlocker!: () => void
    let blockerOpen!: () => void
    const opened = new Promise<void>((resolve) => (blockerOpen = resolve))
    const blocker = source.db.transaction(async (tx) => {
      await tx.query('SELECT 1')
      blockerOpen()
      await new Promise<void>((resolve) => (releaseBlocker = resolve))
    })
    await opened
    const controller = new AbortController()
    const events: string[] = []
    const snapshot = source.snapshot({ table, where: undefined, params: [], signal: controller.signal, timeoutMs: 5_000 })
    void snapshot.catch(() => events.push('snapshot settled'))
    controller.abort(new Error('client left'))
    await expect(snapshot).rejects.toThrow('client left')
    events.push('blocker released')
    releaseBlocker()
    await blocker
    expect(events).toEqual(['snapshot settled', 'blocker released'])
    const next = await source.snapshot({ table, where: undefined, params: [] })
    expect(next.rows).toHaveLength(3)
  })

  it('an already aborted signal rejects without touching the database', async () => {
    const controller = new AbortController()
    controller.abort(new Error('gone before'))
    await expect(source.snapshot({ table, where: undefined, params: [], signal: controller.signal })).rejects.toThrow('gone before')
  })
})

describe('shape eviction on PGlite', () => {
  it('keeps maxShapes shapes; an evicted shape answers 409 and its refetch sees the writes made meanwhile', async () => {
    await source.db.exec(`CREATE TABLE evict_a (id int8 PRIMARY KEY); CREATE TABLE evict_b (id int8 PRIMARY KEY);
      INSERT INTO evict_a VALUES (1); INSERT INTO evict_b VALUES (1)`)
    const handler = createShapeHandler({ source, maxShapes: 1 })
    const first = await handler(new Request('http://t/v1/shape?table=evict_a&offset=-1'))
    const handle = first.headers.get('electric-handle') as string
    await first.body?.cancel()
    await source.db.exec('INSERT INTO evict_a VALUES (2)')
    expect((await handler(new Request('http://t/v1/shape?table=evict_b&offset=-1'))).status).toBe(200)
    expect(handler.stats()).toMatchObject({ shapes: 1, evicted: 1 })
    const refused = await handler(new Request(`http://t/v1/shape?table=evict_a&offset=0_0&handle=${handle}`))
    expect(refused.status).toBe(409)
    const again = await handler(new Request('http://t/v1/shape?table=evict_a&offset=-1'))
    const rows = ((await again.json()) as { key?: string }[]).filter((message) => message.key !== undefined)
    expect(rows).toHaveLength(2)
    await handler.close()
  })
})
