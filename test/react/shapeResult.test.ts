import { describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/index'
import type { Shape, ShapeSnapshot } from '../../src/core/index'
import { createShapeResultStore } from '../../src/react/shapeResult'

/** Counts reads of `data` on every snapshot the shape hands out, keeping snapshot identity stable. */
function countDataReads<T>(shape: Shape<T>): { reads: () => number } {
  const original = shape.getSnapshot.bind(shape)
  const proxies = new WeakMap<ShapeSnapshot<T>, ShapeSnapshot<T>>()
  let reads = 0
  shape.getSnapshot = () => {
    const snapshot = original()
    let proxy = proxies.get(snapshot)
    if (proxy === undefined) {
      proxy = new Proxy(snapshot, {
        get(target, property) {
          if (property === 'data') reads += 1
          return Reflect.get(target, property, target)
        },
      })
      proxies.set(snapshot, proxy)
    }
    return proxy
  }
  return { reads: () => reads }
}

const KEY = '"public"."items"/"1"'

describe('createShapeResultStore', () => {
  it('never makes the store build `data` for a reader that only uses `rows`, and hands out the store array when read', () => {
    const client = new ShapeClient({ fetch: () => new Promise<Response>(() => undefined), visibility: null })
    const shape = client.shape({ url: 'http://localhost/v1/shape', params: { table: 'items' } })
    const counter = countDataReads(shape)
    const seeded = shape.hydrate({
      handle: 'h-1',
      offset: '0_inf',
      cursor: undefined,
      schema: undefined,
      lastSyncedAt: 1,
      rows: new Map([[KEY, { id: 1 }]]),
    })
    expect(seeded).toBe(true)
    const source = createShapeResultStore(shape)

    const first = source.getSnapshot()
    expect(first.rows.get(KEY)).toEqual({ id: 1 })
    expect(source.getSnapshot()).toBe(first)
    expect(counter.reads()).toBe(0)

    expect(first.data).toBe(shape.getSnapshot().data)
    expect(counter.reads()).toBe(2)
    expect({ ...first }.data).toEqual([{ id: 1 }])
    client.dispose()
  })

  it('returns a new result only when the snapshot or a shown status field changed', () => {
    const client = new ShapeClient({ fetch: () => new Promise<Response>(() => undefined), visibility: null })
    const shape = client.shape({ url: 'http://localhost/v1/shape', params: { table: 'items' } })
    const source = createShapeResultStore(shape)
    const loading = source.getSnapshot()
    expect(loading.isLoading).toBe(true)
    expect(source.getSnapshot()).toBe(loading)
    shape.hydrate({ handle: 'h-1', offset: '0_inf', cursor: undefined, schema: undefined, lastSyncedAt: 5, rows: new Map() })
    const ready = source.getSnapshot()
    expect(ready).not.toBe(loading)
    expect(ready).toMatchObject({ isLoading: false, data: [], lastSyncedAt: 5 })
    client.dispose()
  })
})
