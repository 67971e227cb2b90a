/**
 * Our client's subset snapshots against the dev server on the memory source: bad subsets, and the shared suite
 * (support/clientSubset.ts, also run on PGlite and PostgreSQL in subsetSnapshot.client.{pglite,postgres}.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionsError, ShapeClient, ShapeRequestError } from '../../src/core/index'
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
})

runClientSubsetSuite('subset snapshots from our client on the memory source', createMemoryFixture)
