/**
 * Our client's subset snapshots against the dev server (memory source, in-process fetch): `client.fetchSnapshot`
 * returns a page without touching a shape; `shape.requestSnapshot` loads a page into a `log: 'changes_only'` shape,
 * drops the later live change the page already holds and applies the ones committed after it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionsError, ShapeClient, ShapeRequestError } from '../../src/core/index'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer } from '../../src/testing'
import { itemsTable } from './support/electricInterop'
import { LiveGate } from './support/liveGate'

const ITEMS = itemsTable([
  { id: 1, title: 'one', n: 1 },
  { id: 2, title: 'two', n: 6 },
  { id: 3, title: 'three', n: 3 },
  { id: 4, title: 'four', n: null },
  { id: 5, title: 'five', n: 2 },
  { id: 6, title: 'six', n: 9 },
])
const keyOf = (id: number): string => `"public"."items"/"${id}"`

interface Item {
  id: number
  title: string
  n: number | null
}

describe('subset snapshots from our client', () => {
  let server: TestShapeServer
  let client: ShapeClient
  afterEach(async () => {
    client.dispose()
    await server.close()
  })

  it('client.fetchSnapshot: a page of parsed rows, in order, without creating a shape', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    client = new ShapeClient({ fetch: server.fetch, visibility: null })
    const options = { url: server.url, params: { table: 'items' } }
    const page = await client.fetchSnapshot<Item>(options, { where: 'n >= $1', params: ['3'], orderBy: 'n DESC', limit: 2 })
    expect(page.data).toEqual([
      { id: 6, title: 'six', n: 9 },
      { id: 2, title: 'two', n: 6 },
    ])
    expect(page.metadata).toMatchObject({ xmin: expect.any(String), xmax: expect.any(String), database_lsn: expect.any(String) })
    expect(client.size).toBe(0)
    const second = await client.fetchSnapshot<Item>(options, { where: 'n >= $1', params: ['3'], orderBy: 'n DESC', limit: 2, offset: 2 })
    expect(second.data.map((row) => row.id)).toEqual([3])
  })

  it('refuses a bad subset before any request, and reports the server refusal as a typed error', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    let requests = 0
    client = new ShapeClient({ fetch: (input, init) => (requests++, server.fetch(input, init)), visibility: null })
    const options = { url: server.url, params: { table: 'items' } }
    await expect(client.fetchSnapshot(options, { limit: 2 })).rejects.toBeInstanceOf(InvalidOptionsError)
    await expect(client.fetchSnapshot(options, { orderBy: 'id', limit: 0 })).rejects.toBeInstanceOf(InvalidOptionsError)
    expect(requests).toBe(0)
    const refused = await client.fetchSnapshot(options, { where: 'nope = 1', orderBy: 'id' }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ShapeRequestError)
    expect((refused as ShapeRequestError).errors).toHaveProperty('subset')
  })

  it('shape.requestSnapshot loads the page into a changes_only shape; a held change is dropped, later ones apply', async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    const gate = new LiveGate()
    client = new ShapeClient({
      visibility: null,
      fetch: async (input, init) => {
        if (new URL(input).searchParams.get('live') === 'true') await gate.pass(init?.signal)
        return server.fetch(input, init)
      },
    })
    // replica=full: an applied update records the row's old value, which shows whether the held update was applied.
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items', replica: 'full' }, log: 'changes_only' })
    const release = shape.retain()
    await shape.whenUpToDate()
    expect(shape.getSnapshot().data).toEqual([])
    await gate.parked()

    // Committed before the snapshot, delivered after it (the live request is held at the gate).
    server.source.update('items', { id: 2, title: 'two, before' })
    const page = await shape.requestSnapshot({ where: 'n > $1', params: ['5'], orderBy: 'id' })
    expect(page.data).toEqual([
      { id: 2, title: 'two, before', n: 6 },
      { id: 6, title: 'six', n: 9 },
    ])
    expect(shape.getSnapshot().data).toEqual(page.data)
    expect(shape.getSnapshot().isUpToDate).toBe(true)

    // Committed after the snapshot.
    server.source.update('items', { id: 6, title: 'six, after' })
    gate.open()
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (shape.getRow(keyOf(6))?.title === 'six, after') resolve()
      }
      shape.subscribe(check)
      check()
    })
    expect(shape.getOldValue(keyOf(6))).toMatchObject({ title: 'six' })
    // The update the page already held was dropped: never applied, so no old value recorded for it.
    expect(shape.getOldValue(keyOf(2))).toBeUndefined()
    expect(shape.getRow(keyOf(2))).toEqual({ id: 2, title: 'two, before', n: 6 })
    release()
  })
})
