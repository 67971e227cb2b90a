/**
 * Our client's subset snapshots against the dev server on any source (memory, PGlite, PostgreSQL):
 * `client.fetchSnapshot` returns a page without touching a shape; `shape.requestSnapshot` loads a page into a
 * `log: 'changes_only'` shape, drops the later live change the page already holds (its transaction is visible in the
 * snapshot metadata) and applies the change committed after it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../../src/core/index'
import { createShapeHandler } from '../../../src/server/handler'
import type { ShapeHandler } from '../../../src/server/handler'
import type { SourceFixture } from './fixture'
import { LiveGate } from './liveGate'

interface Item {
  id: number
  title: string
  n: number | null
}

/** The rows every client subset test starts from (ids 1–6, `n` from null to 9). */
export const SUBSET_ROWS: readonly Item[] = [
  { id: 1, title: 'one', n: 1 },
  { id: 2, title: 'two', n: 6 },
  { id: 3, title: 'three', n: 3 },
  { id: 4, title: 'four', n: null },
  { id: 5, title: 'five', n: 2 },
  { id: 6, title: 'six', n: 9 },
]

/** Runs the client subset suite on the fixtures `makeFixture` builds. */
export function runClientSubsetSuite(name: string, makeFixture: () => Promise<SourceFixture>): void {
  describe(name, () => {
    const open: Array<{ fixture: SourceFixture; handler: ShapeHandler; client: ShapeClient }> = []
    afterEach(async () => {
      for (const { fixture, handler, client } of open.splice(0)) {
        client.dispose()
        await handler.close()
        await fixture.close()
      }
    })

    async function setUp(gate?: LiveGate) {
      const fixture = await makeFixture()
      const table = await fixture.createTable({
        name: 'items',
        columns: [
          { name: 'id', type: 'int4', primaryKey: true },
          { name: 'title', type: 'text' },
          { name: 'n', type: 'int4' },
        ],
        replicaFull: true,
      })
      for (const row of SUBSET_ROWS) await fixture.insert(table, { ...row })
      const handler = createShapeHandler({ source: fixture.source, longPollTimeoutMs: 5_000 })
      const client = new ShapeClient({
        visibility: null,
        fetch: async (input, init) => {
          if (gate !== undefined && new URL(input).searchParams.get('live') === 'true') await gate.pass(init.signal)
          return handler(new Request(input, init))
        },
      })
      open.push({ fixture, handler, client })
      const url = 'http://live-shapes.test/v1/shape'
      return { fixture, client, table, url, keyOf: (id: number) => `"public"."${table}"/"${id}"` }
    }

    it('client.fetchSnapshot: a page of parsed rows, in order, without creating a shape', async () => {
      const { client, table, url } = await setUp()
      const options = { url, params: { table } }
      const page = await client.fetchSnapshot<Item>(options, { where: 'n >= $1', params: ['3'], orderBy: 'n DESC', limit: 2 })
      expect(page.data).toEqual([SUBSET_ROWS[5], SUBSET_ROWS[1]])
      expect(page.metadata).toMatchObject({ xmin: expect.any(String), xmax: expect.any(String), database_lsn: expect.any(String) })
      expect(client.size).toBe(0)
      const next = await client.fetchSnapshot<Item>(options, { where: 'n >= $1', params: ['3'], orderBy: 'n DESC', limit: 2, offset: 2 })
      expect(next.data).toEqual([SUBSET_ROWS[2]])
    })

    it('shape.requestSnapshot: the page enters a changes_only shape; a held change is dropped, a later one applies', async () => {
      const gate = new LiveGate()
      const { fixture, client, table, url, keyOf } = await setUp(gate)
      // replica=full: an applied update records the row's old value, which shows whether the held update was applied.
      const shape = client.shape<Item>({ url, params: { table, replica: 'full' }, log: 'changes_only' })
      const release = shape.retain()
      await shape.whenUpToDate()
      expect(shape.getSnapshot().data).toEqual([])
      await gate.parked()

      // Committed before the snapshot, delivered after it (the live request is held at the gate).
      await fixture.update(table, { id: 2 }, { title: 'two, before' })
      const page = await shape.requestSnapshot({ where: 'n > $1', params: ['5'], orderBy: 'id' })
      expect(page.data).toEqual([
        { id: 2, title: 'two, before', n: 6 },
        { id: 6, title: 'six', n: 9 },
      ])
      expect(shape.getSnapshot().data).toEqual(page.data)

      // Committed after the snapshot.
      await fixture.update(table, { id: 6 }, { title: 'six, after' })
      gate.open()
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (shape.getRow(keyOf(6))?.title === 'six, after') resolve()
        }
        shape.subscribe(check)
        check()
      })
      expect(shape.getOldValue(keyOf(6))).toMatchObject({ title: 'six' })
      // The update the page already held was never applied: no old value recorded for it, the row as loaded.
      expect(shape.getOldValue(keyOf(2))).toBeUndefined()
      expect(shape.getRow(keyOf(2))).toEqual({ id: 2, title: 'two, before', n: 6 })
      release()
    })
  })
}
