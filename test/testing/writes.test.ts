import { describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import { TxidTimeoutError } from '../../src/core/txid'
import { createTestShapeServer } from '../../src/testing'
import { ManualClock } from '../core/support/manualClock'

interface Item {
  id: number
  title: string
}

const columns = [
  { name: 'id', type: 'int4', primaryKey: true },
  { name: 'title', type: 'text' },
]

async function setup() {
  const server = createTestShapeServer({ tables: [{ name: 'items', columns, rows: [{ id: 1, title: 'one' }] }, { name: 'other', columns }], longPollTimeoutMs: 60_000 })
  const clock = new ManualClock()
  const client = new ShapeClient({ fetch: server.fetch, clock, visibility: null })
  const shape = client.shape<Item>({ url: server.url, params: { table: 'items' } })
  const release = shape.retain()
  await shape.whenUpToDate()
  return {
    server,
    clock,
    shape,
    async done() {
      release()
      client.dispose()
      await server.close()
    },
  }
}

describe('the test server writes', () => {
  it('resolve to the txid the client sees in the txids header', async () => {
    const { server, shape, done } = await setup()
    const first = await server.insert('items', { id: 2, title: 'two' })
    const second = await server.update('items', { id: 2, title: 'deux' })
    expect(typeof first).toBe('number')
    expect(second).toBeGreaterThan(first)
    await shape.whenTxid(second)
    expect(shape.getRow('"public"."items"/"2"')).toEqual({ id: 2, title: 'deux' })
    const removed = await server.delete('items', { id: 2 })
    await shape.whenTxid(String(removed))
    expect(shape.getRow('"public"."items"/"2"')).toBeUndefined()
    const both = await server.transaction((tx) => {
      tx.insert('other', { id: 9, title: 'elsewhere' })
      tx.insert('items', { id: 3, title: 'three' })
    })
    await shape.whenTxid(both as number)
    expect(shape.getRow('"public"."items"/"3"')).toEqual({ id: 3, title: 'three' })
    await done()
  })

  it('a transaction touching no row of the shape never confirms: whenTxid times out with the explanation', async () => {
    const { server, shape, clock, done } = await setup()
    const txid = await server.insert('other', { id: 1, title: 'not in the shape' })
    const wait = shape.whenTxid(txid, { timeoutMs: 5000 }).catch((error: unknown) => error)
    await server.insert('items', { id: 4, title: 'later' }).then((later) => shape.whenTxid(later))
    clock.advance(5000)
    const error = await wait
    expect(error).toBeInstanceOf(TxidTimeoutError)
    expect((error as Error).message).toMatch(/touches no row of this shape never shows up/)
    await done()
  })

  it('failNextCommit fails the next write only and commits nothing; the optimistic row rolls back', async () => {
    const { server, shape, done } = await setup()
    server.failNextCommit(new Error('title refused'))
    const result = shape.mutate({ apply: (draft) => draft.insert({ id: 5, title: 'bad' }), commit: () => server.insert('items', { id: 5, title: 'bad' }) })
    expect(shape.getRow('"public"."items"/"5"')).toEqual({ id: 5, title: 'bad' })
    await expect(result).rejects.toThrow('title refused')
    expect(shape.getRow('"public"."items"/"5"')).toBeUndefined()
    expect(server.source.rows('items')).toHaveLength(1)
    const ok = await shape.mutate({ apply: (draft) => draft.insert({ id: 5, title: 'good' }), commit: () => server.insert('items', { id: 5, title: 'good' }) })
    expect(ok.txids).toHaveLength(1)
    expect(shape.getRow('"public"."items"/"5"')).toEqual({ id: 5, title: 'good' })
    expect(shape.getSnapshot().isPending('"public"."items"/"5"')).toBe(false)
    await done()
  })

  it('delayNextCommit holds the next write until the promise settles, the optimistic row pending meanwhile', async () => {
    const { server, shape, done } = await setup()
    let release!: () => void
    server.delayNextCommit(new Promise<void>((resolve) => (release = resolve)))
    const key = shape.rowKey({ id: 1 })
    const result = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'slow' }), commit: () => server.update('items', { id: 1, title: 'slow' }) })
    await Promise.resolve()
    expect(server.source.rows('items')).toEqual([{ id: '1', title: 'one' }])
    expect(shape.getSnapshot().isPending(key)).toBe(true)
    expect(shape.getRow(key)).toEqual({ id: 1, title: 'slow' })
    release()
    await result
    expect(server.source.rows('items')).toEqual([{ id: '1', title: 'slow' }])
    expect(shape.getSnapshot().isPending(key)).toBe(false)
    await done()
  })
})
