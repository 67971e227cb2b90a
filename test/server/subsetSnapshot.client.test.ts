/**
 * Our client's subset snapshots against the dev server on the memory source: bad subsets, and the shared suite
 * (support/clientSubset.ts, also run on PGlite and PostgreSQL in subsetSnapshot.client.{pglite,postgres}.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionsError, ShapeClient, ShapeRequestError, snakeCamelMapper } from '../../src/core/index'
import { createTestShapeServer } from '../../src/testing'
import type { TestShapeServer } from '../../src/testing'
import { itemsTable } from './support/electricInterop'
import { runClientSubsetSuite, SUBSET_ROWS } from './support/clientSubset'
import { createMemoryFixture } from './support/memoryFixture'

const ITEMS = itemsTable(SUBSET_ROWS.map((row) => ({ ...row })))
describe('subset snapshots from our client', () => {
  let server: TestShapeServer
  let client: ShapeClient
  afterEach(async () => {
    client.dispose()
    await server.close()
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

  it("changes_only: a live update of a row no page loaded shows no partial row, and one of a loaded row merges", async () => {
    server = createTestShapeServer({ tables: [ITEMS], longPollTimeoutMs: 1_000 })
    client = new ShapeClient({ fetch: server.fetch, visibility: null })
    const shape = client.shape<Record<string, unknown>>({ url: server.url, params: { table: 'items' }, log: 'changes_only' })
    const release = shape.retain()
    const [first, second] = SUBSET_ROWS
    await shape.requestSnapshot({ where: `id = ${String(first!.id)}`, orderBy: 'id' })
    await server.update('items', { id: second!.id, title: 'not loaded' })
    const txid = await server.update('items', { id: first!.id, title: 'loaded' })
    await shape.whenTxid(txid, { timeoutMs: 5_000 })
    expect(shape.getSnapshot().data).toEqual([{ ...first, title: 'loaded' }])
    release()
  })

  it('names the same shape in its subset requests when a column mapper encodes the where', async () => {
    server = createTestShapeServer({
      tables: [
        {
          name: 'tasks',
          columns: [
            { name: 'id', type: 'int4', primaryKey: true },
            { name: 'owner_id', type: 'int4' },
            { name: 'due_rank', type: 'int4' },
          ],
          rows: [
            { id: 1, owner_id: 7, due_rank: 3 },
            { id: 2, owner_id: 7, due_rank: 1 },
            { id: 3, owner_id: 8, due_rank: 2 },
          ],
        },
      ],
      longPollTimeoutMs: 1_000,
    })
    const urls: string[] = []
    client = new ShapeClient({ fetch: (input, init) => (urls.push(String(input)), server.fetch(input, init)), visibility: null })
    const shape = client.shape({
      url: server.url,
      params: { table: 'tasks', where: 'ownerId = $1', params: ['7'] },
      columnMapper: snakeCamelMapper(),
      log: 'changes_only',
    })
    const release = shape.retain()
    await shape.whenUpToDate()
    // The subset's own where and orderBy are in database names (subsetSnapshot.ts).
    const page = await shape.requestSnapshot({ where: 'due_rank < $1', params: ['3'], orderBy: 'due_rank' })
    expect(page.data).toEqual([{ id: 2, ownerId: 7, dueRank: 1 }])
    expect(shape.getSnapshot().data).toEqual([{ id: 2, ownerId: 7, dueRank: 1 }])
    expect(new Set(urls.map((url) => new URL(url).searchParams.get('where')))).toEqual(new Set(['owner_id = $1']))
    release()
  })
})

runClientSubsetSuite('subset snapshots from our client on the memory source', createMemoryFixture)
