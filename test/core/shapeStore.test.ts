import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Message, Row } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'

type Msg = Message<Row>
const ins = (key: string, value: Row): Msg => ({ key, value, headers: { operation: 'insert' } })
const upd = (key: string, value: Row, oldValue?: Row): Msg =>
  oldValue ? { key, value, old_value: oldValue, headers: { operation: 'update' } } : { key, value, headers: { operation: 'update' } }
const del = (key: string, value: Row = {}): Msg => ({ key, value, headers: { operation: 'delete' } })
const utd: Msg = { headers: { control: 'up-to-date', global_last_seen_lsn: '1' } }
const refetch: Msg = { headers: { control: 'must-refetch' } }
const snapEnd: Msg = { headers: { control: 'snapshot-end', xmin: '1', xmax: '2', xip_list: [] } }

const published = (store: ShapeStore) => Object.fromEntries(store.getSnapshot().rows)

afterEach(() => {
  vi.restoreAllMocks()
})

describe('ShapeStore state by event', () => {
  const table: { name: string; batches: Msg[][]; rows: Record<string, Row>; version: number }[] = [
    { name: 'nothing is published before the first up-to-date', batches: [[ins('a', { v: 1 }), snapEnd]], rows: {}, version: 0 },
    { name: 'the first up-to-date publishes, even an empty shape', batches: [[snapEnd, utd]], rows: {}, version: 1 },
    {
      name: 'a multi-batch initial sync publishes once at the end',
      batches: [[ins('a', { v: 1 })], [ins('b', { v: 2 }), snapEnd], [utd]],
      rows: { a: { v: 1 }, b: { v: 2 } },
      version: 1,
    },
    {
      name: 'update merges into the existing row',
      batches: [[ins('a', { id: 1, x: 1, y: 1 }), utd], [upd('a', { id: 1, y: 2 }), utd]],
      rows: { a: { id: 1, x: 1, y: 2 } },
      version: 2,
    },
    { name: 'update of an unknown key upserts what it carries', batches: [[utd], [upd('z', { id: 9, y: 2 }), utd]], rows: { z: { id: 9, y: 2 } }, version: 2 },
    { name: 'delete removes', batches: [[ins('a', { v: 1 }), ins('b', { v: 2 }), utd], [del('a'), utd]], rows: { b: { v: 2 } }, version: 2 },
    { name: 'delete of an unknown key changes nothing', batches: [[ins('a', { v: 1 }), utd], [del('q'), utd]], rows: { a: { v: 1 } }, version: 1 },
    { name: 'a duplicate insert is idempotent', batches: [[ins('a', { v: 1 }), utd], [ins('a', { v: 1 }), utd]], rows: { a: { v: 1 } }, version: 1 },
    {
      name: 'initial sync: a repeated insert keeps the last value, a later update merges into it',
      batches: [[ins('a', { v: 1, w: 1 }), ins('a', { v: 2, w: 2 })], [upd('a', { w: 3 }), utd]],
      rows: { a: { v: 2, w: 3 } },
      version: 1,
    },
    {
      name: 'initial sync: insert, delete and insert again of one key',
      batches: [[ins('a', { v: 1 }), ins('b', { v: 1 }), del('a')], [ins('a', { v: 2 }), utd]],
      rows: { a: { v: 2 }, b: { v: 1 } },
      version: 1,
    },
    {
      name: 'an insert after a must-refetch (nothing published yet) replaces the pending row',
      batches: [[ins('a', { v: 1 }), refetch, ins('a', { v: 2 }), utd]],
      rows: { a: { v: 2 } },
      version: 1,
    },
    { name: 'a duplicate delete is idempotent', batches: [[ins('a', { v: 1 }), utd], [del('a'), del('a'), utd], [del('a'), utd]], rows: {}, version: 2 },
    { name: 'an insert on an existing key replaces it', batches: [[ins('a', { v: 1, w: 1 }), utd], [ins('a', { v: 2 }), utd]], rows: { a: { v: 2 } }, version: 2 },
    {
      name: 'a primary-key change (delete + insert) applies in one batch',
      batches: [[ins('k1', { id: 1 }), utd], [del('k1', { id: 1 }), ins('k2', { id: 2 }), utd]],
      rows: { k2: { id: 2 } },
      version: 2,
    },
    {
      name: 'a live batch without up-to-date waits for the next one',
      batches: [[ins('a', { v: 1 }), utd], [upd('a', { v: 2 })]],
      rows: { a: { v: 1 } },
      version: 1,
    },
    {
      name: 'pending live changes publish with the next up-to-date',
      batches: [[ins('a', { v: 1 }), utd], [upd('a', { v: 2 })], [ins('b', { v: 3 }), utd]],
      rows: { a: { v: 2 }, b: { v: 3 } },
      version: 2,
    },
    {
      name: 'an up-to-date with no change does not bump the version',
      batches: [[ins('a', { v: 1 }), utd], [utd], [upd('a', { v: 1 }), utd]],
      rows: { a: { v: 1 } },
      version: 1,
    },
    {
      name: 'must-refetch keeps the published rows until the next up-to-date',
      batches: [[ins('a', { v: 1 }), ins('b', { v: 2 }), utd], [refetch], [ins('c', { v: 3 })]],
      rows: { a: { v: 1 }, b: { v: 2 } },
      version: 1,
    },
    {
      name: 'after must-refetch the next up-to-date replaces the rows whole',
      batches: [[ins('a', { v: 1 }), ins('b', { v: 2 }), utd], [refetch], [ins('c', { v: 3 }), ins('a', { v: 1 }), utd]],
      rows: { c: { v: 3 }, a: { v: 1 } },
      version: 2,
    },
    {
      name: 'must-refetch drops changes pending before it',
      batches: [[ins('a', { v: 1 }), utd], [upd('a', { v: 5 }), ins('x', { v: 0 }), refetch, ins('a', { v: 1 }), utd]],
      rows: { a: { v: 1 } },
      version: 1,
    },
    {
      name: 'messages after the last up-to-date of a batch stay pending',
      batches: [[ins('a', { v: 1 }), utd, ins('b', { v: 2 })]],
      rows: { a: { v: 1 } },
      version: 1,
    },
  ]

  it.each(table)('$name', ({ batches, rows, version }) => {
    const store = new ShapeStore()
    for (const batch of batches) store.applyBatch(batch)
    expect(published(store)).toEqual(rows)
    expect(Object.keys(published(store))).toEqual(Object.keys(rows))
    expect(store.getSnapshot().version).toBe(version)
    expect(store.getSnapshot().isUpToDate).toBe(version > 0)
    for (const [key, row] of Object.entries(rows)) expect(store.getRow(key)).toEqual(row)
  })
})

describe("ShapeStore with log: 'changes_only'", () => {
  it('ignores the update of a key it does not hold (a partial row of a row no page loaded), still counting its txids', () => {
    const store = new ShapeStore({ log: 'changes_only' })
    const synced: number[] = []
    store.observeSynced((transactions) => synced.push(...transactions.txids))
    store.applyBatch([utd])
    const update = (key: string, value: Row, txid: number): Msg => ({ key, value, headers: { operation: 'update', txids: [txid] } })
    store.applyBatch([update('z', { id: 9, y: 2 }, 7), utd])
    expect(published(store)).toEqual({})
    store.applyBatch([ins('a', { id: 1, x: 1, y: 1 }), update('a', { id: 1, y: 2 }, 8), utd])
    store.applyBatch([del('a'), update('a', { id: 1, y: 3 }, 9), utd])
    expect(published(store)).toEqual({})
    expect(synced).toEqual([7, 8, 9])
  })
})

describe('ShapeStore snapshots', () => {
  it('returns the same snapshot object until a published change', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), utd])
    const first = store.getSnapshot()
    expect(store.getSnapshot()).toBe(first)
    store.applyBatch([utd])
    store.applyBatch([upd('b', { v: 2 })])
    expect(store.getSnapshot()).toBe(first)
    expect(first.data).toBe(first.data)
    expect(first.keys).toBe(first.keys)
    store.applyBatch([utd])
    expect(store.getSnapshot()).not.toBe(first)
  })

  it('a single-row update changes exactly that row and fires exactly one key listener', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 1 }), ins('c', { v: 1 }), utd])
    const before = store.getSnapshot()
    const all = vi.fn()
    const perKey = { a: vi.fn(), b: vi.fn(), c: vi.fn() }
    store.subscribe(all)
    for (const [key, listener] of Object.entries(perKey)) store.subscribeKey(key, listener)
    store.applyBatch([upd('b', { v: 2 }), utd])
    const after = store.getSnapshot()
    expect(all).toHaveBeenCalledTimes(1)
    expect(perKey.b).toHaveBeenCalledTimes(1)
    expect(perKey.a).not.toHaveBeenCalled()
    expect(perKey.c).not.toHaveBeenCalled()
    expect(after.rows.get('a')).toBe(before.rows.get('a'))
    expect(after.rows.get('c')).toBe(before.rows.get('c'))
    expect(after.rows.get('b')).not.toBe(before.rows.get('b'))
    expect(after.keys).toBe(before.keys)
    expect(after.version).toBe(before.version + 1)
  })

  it('keys change identity when membership changes, and only then', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 1 }), utd])
    const k1 = store.getSnapshot().keys
    store.applyBatch([upd('a', { v: 2 }), utd])
    expect(store.getSnapshot().keys).toBe(k1)
    store.applyBatch([ins('c', { v: 1 }), utd])
    const k2 = store.getSnapshot().keys
    expect(k2).not.toBe(k1)
    expect(k2).toEqual(['a', 'b', 'c'])
    store.applyBatch([del('a'), utd])
    expect(store.getSnapshot().keys).toEqual(['b', 'c'])
    expect(Object.isFrozen(store.getSnapshot().keys)).toBe(true)
  })

  it('an old snapshot of the same membership shares keys with the new one, whichever is read first', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), utd])
    const old = store.getSnapshot()
    store.applyBatch([upd('a', { v: 2 }), utd])
    const current = store.getSnapshot()
    expect(current.keys).toBe(old.keys)
  })

  it('a holder of an old snapshot sees it unchanged after later batches', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 2 }), utd])
    const old = store.getSnapshot()
    const oldData = old.data
    store.applyBatch([upd('a', { v: 10 }), del('b'), ins('c', { v: 3 }), utd])
    store.applyBatch([refetch, ins('z', { v: 0 }), utd])
    expect(Object.fromEntries(old.rows)).toEqual({ a: { v: 1 }, b: { v: 2 } })
    expect(old.data).toBe(oldData)
    expect(old.data).toEqual([{ v: 1 }, { v: 2 }])
    expect(old.keys).toEqual(['a', 'b'])
    expect(old.version).toBe(1)
    expect(published(store)).toEqual({ z: { v: 0 } })
  })

  it('old snapshots rebuilt from the undo chain equal a copy-everything model, read in any order', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return (seed >>> 16) % n
    }
    const batch = (step: number): Msg[] => {
      if (step % 9 === 8) return [refetch, ...Array.from({ length: 6 }, (_, i) => ins(`k${random(12)}`, { i, step })), utd]
      const messages: Msg[] = []
      for (let i = 0; i < 1 + random(3); i++) {
        const key = `k${random(12)}`
        const choice = random(3)
        messages.push(choice === 0 ? ins(key, { step, i }) : choice === 1 ? upd(key, { u: step }) : del(key))
      }
      return [...messages, utd]
    }
    for (const readOrder of ['oldest first', 'newest first', 'data before rows'] as const) {
      seed = 7
      const store = new ShapeStore()
      const model = new ShapeStore()
      const held: { snapshot: ReturnType<ShapeStore['getSnapshot']>; rows: [string, Row][] }[] = []
      for (let step = 0; step < 40; step++) {
        const messages = batch(step)
        store.applyBatch(messages)
        model.applyBatch(messages)
        // The model exposes every version's rows, so it always copies: the pre-change reference behaviour.
        const expected = Array.from(model.getSnapshot().rows)
        const snapshot = store.getSnapshot()
        if (held.at(-1)?.snapshot !== snapshot) held.push({ snapshot, rows: expected })
      }
      expect(held.length).toBeGreaterThan(20)
      const ordered = readOrder === 'newest first' ? [...held].reverse() : held
      for (const { snapshot, rows } of ordered) {
        for (let k = 0; k < 12; k++) expect(snapshot.rows.get(`k${k}`)).toEqual(rows.find(([key]) => key === `k${k}`)?.[1])
        expect(snapshot.rows.size).toBe(rows.length)
        if (readOrder === 'data before rows') expect(snapshot.data).toEqual(rows.map(([, row]) => row))
        expect(Array.from(snapshot.rows)).toEqual(rows)
        expect(snapshot.keys).toEqual(rows.map(([key]) => key))
        expect(snapshot.data).toEqual(rows.map(([, row]) => row))
      }
    }
  })

  it('an old snapshot rebuilt after inserts, updates, deletes and a refetch keeps its rows, order and identities', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 2 }), ins('c', { v: 3 }), utd])
    const v1 = store.getSnapshot()
    const rowB = store.getRow('b')
    store.applyBatch([del('b'), utd])
    const v2 = store.getSnapshot()
    store.applyBatch([ins('b', { v: 20 }), upd('a', { v: 10 }), ins('d', { v: 4 }), utd])
    const v3 = store.getSnapshot()
    store.applyBatch([del('a'), utd])
    store.applyBatch([refetch, ins('z', { v: 0 }), utd])
    expect(Array.from(v3.rows)).toEqual([['a', { v: 10 }], ['c', { v: 3 }], ['b', { v: 20 }], ['d', { v: 4 }]])
    expect(Array.from(v2.rows)).toEqual([['a', { v: 1 }], ['c', { v: 3 }]])
    expect(v1.keys).toEqual(['a', 'b', 'c'])
    expect(v1.rows.get('b')).toBe(rowB)
    expect(v1.data).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }])
    expect(published(store)).toEqual({ z: { v: 0 } })
  })

  it('builds data lazily in key order, once per version', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('b', { v: 2 }), ins('a', { v: 1 }), utd])
    const snapshot = store.getSnapshot()
    expect(snapshot.data).toEqual([{ v: 2 }, { v: 1 }])
    expect(snapshot.data).toBe(snapshot.data)
  })

  it('is assignable to a store of unknown rows (checked by tsc: no private member pins T contravariantly)', () => {
    const specific = new ShapeStore<{ id: number }>()
    specific.applyBatch([{ key: 'a', value: { id: 1 }, headers: { operation: 'insert' } }, utd])
    const general: ShapeStore<unknown> = specific
    const snapshot: { data: readonly unknown[] } = general.getSnapshot()
    expect(snapshot.data).toEqual([{ id: 1 }])
  })

  it('the initial snapshot is empty and not up to date', () => {
    const store = new ShapeStore()
    expect(store.getSnapshot()).toMatchObject({ version: 0, isUpToDate: false, data: [], keys: [] })
    expect(store.getRow('a')).toBeUndefined()
  })
})

describe('ShapeStore copy-on-write', () => {
  const load = (store: ShapeStore, n: number) =>
    store.applyBatch([...Array.from({ length: n }, (_, i) => ins(`k${i}`, { id: i, v: 0 })), utd])

  it('a 10,000-row store applying one update does not copy the map when no snapshot was handed out', () => {
    const store = new ShapeStore()
    load(store, 10_000)
    const set = vi.spyOn(Map.prototype, 'set')
    store.applyBatch([upd('k5', { v: 1 }), utd])
    expect(set.mock.calls.length).toBeLessThan(10)
    expect(store.getRow('k5')).toEqual({ id: 5, v: 1 })
  })

  it('copies once an iteration of rows exposed the Map, leaving that snapshot intact', () => {
    const store = new ShapeStore()
    load(store, 10_000)
    const exposed = store.getSnapshot()
    const rows = exposed.rows
    expect(Array.from(rows.keys())).toHaveLength(10_000)
    const set = vi.spyOn(Map.prototype, 'set')
    store.applyBatch([upd('k5', { v: 1 }), utd])
    expect(set.mock.calls.length).toBeGreaterThanOrEqual(10_000)
    set.mockClear()
    store.applyBatch([upd('k6', { v: 1 }), utd])
    expect(set.mock.calls.length).toBeLessThan(10)
    expect(exposed.rows).toBe(rows)
    expect(rows.get('k5')).toEqual({ id: 5, v: 0 })
    expect(rows.get('k6')).toEqual({ id: 6, v: 0 })
    expect(store.getSnapshot().rows).not.toBe(rows)
  })

  it('a 100,000-row store with a getSnapshot()-only subscriber does O(1) Map work per one-row change', () => {
    const store = new ShapeStore()
    load(store, 100_000)
    store.subscribe(() => store.getSnapshot())
    store.getSnapshot()
    const set = vi.spyOn(Map.prototype, 'set')
    const remove = vi.spyOn(Map.prototype, 'delete')
    for (let i = 0; i < 5; i++) {
      set.mockClear()
      remove.mockClear()
      store.applyBatch([upd(`k${i}`, { v: 1 }), utd])
      expect(set.mock.calls.length + remove.mock.calls.length).toBeLessThan(10)
    }
    set.mockClear()
    store.applyBatch([upd('k7', { v: 1 }), ins('new', { id: -1, v: 0 }), del('k8'), utd])
    expect(set.mock.calls.length).toBeLessThan(20)
    expect(store.getRow('k4')).toEqual({ id: 4, v: 1 })
    expect(store.getSnapshot().version).toBe(7)
  })

  it('point reads of rows (get, has, size) expose nothing and answer for their own version', () => {
    const store = new ShapeStore()
    load(store, 100_000)
    store.subscribe(() => {
      const { rows } = store.getSnapshot()
      void [rows.size, rows.get('k1'), rows.has('k2')]
    })
    const first = store.getSnapshot()
    void first.rows.get('k1')
    const set = vi.spyOn(Map.prototype, 'set')
    for (let i = 1; i <= 3; i++) {
      set.mockClear()
      store.applyBatch([upd('k1', { v: i }), del(`k${10 + i}`), utd])
      expect(set.mock.calls.length).toBeLessThan(10)
    }
    set.mockClear()
    expect(first.rows.get('k1')).toEqual({ id: 1, v: 0 })
    expect(first.rows.has('k12')).toBe(true)
    expect(first.rows.size).toBe(100_000)
    expect(store.getSnapshot().rows.get('k1')).toEqual({ id: 1, v: 3 })
    expect(store.getSnapshot().rows.has('k12')).toBe(false)
    expect(store.getSnapshot().rows.size).toBe(100_000 - 3)
    expect(set).not.toHaveBeenCalled()
  })

  it('reading data or keys exposes nothing: the next publish still mutates in place', () => {
    const store = new ShapeStore()
    load(store, 10_000)
    const first = store.getSnapshot()
    const data = first.data
    const keys = first.keys
    const set = vi.spyOn(Map.prototype, 'set')
    store.applyBatch([upd('k5', { v: 1 }), utd])
    expect(set.mock.calls.length).toBeLessThan(10)
    expect(first.data).toBe(data)
    expect(data[5]).toEqual({ id: 5, v: 0 })
    expect(store.getSnapshot().keys).toBe(keys)
    expect(store.getSnapshot().data[5]).toEqual({ id: 5, v: 1 })
  })

  it('data always equals the rows in key order, whatever the history of reads and writes, stale snapshots included', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 16) % n
    }
    const store = new ShapeStore()
    load(store, 40)
    const held: { snapshot: ReturnType<ShapeStore['getSnapshot']>; expected: Row[] }[] = []
    const exact = (snapshot: ReturnType<ShapeStore['getSnapshot']>) => snapshot.keys.map((key) => snapshot.rows.get(key) as Row)
    for (let step = 0; step < 600; step++) {
      const batch: Msg[] = []
      for (let i = random(4); i >= 0; i--) {
        const key = `k${random(60)}`
        const op = random(10)
        if (op < 6) batch.push(upd(key, { id: key, v: step }))
        else if (op < 8) batch.push(ins(key, { id: key, v: -step }))
        else batch.push(del(key))
      }
      if (random(40) === 0) batch.unshift(refetch, ...Array.from({ length: 30 }, (_, i) => ins(`k${(i * 7) % 60}`, { id: i, v: step })))
      store.applyBatch([...batch, utd])
      const snapshot = store.getSnapshot()
      // Read data on most versions (so the next one can derive), skip some (so it cannot), iterate rows sometimes.
      const read = random(5)
      if (read < 3) expect(snapshot.data).toEqual(exact(snapshot))
      else if (read === 3) expect(Array.from(snapshot.rows.values())).toEqual(exact(snapshot))
      if (random(20) === 0) held.push({ snapshot, expected: exact(snapshot) })
    }
    for (const { snapshot, expected } of held) expect(snapshot.data).toEqual(expected)
    expect(held.length).toBeGreaterThan(10)
  })

  it('bounds what an old snapshot can retain: past n undo entries since the chain began, a publish copies', () => {
    const store = new ShapeStore()
    load(store, 100)
    const held = store.getSnapshot()
    const set = vi.spyOn(Map.prototype, 'set')
    const copies: number[] = []
    for (let i = 0; i < 150; i++) {
      set.mockClear()
      store.applyBatch([upd(`k${i % 100}`, { v: i + 1 }), utd])
      store.getSnapshot()
      if (set.mock.calls.length >= 100) copies.push(i)
    }
    expect(copies).toHaveLength(1)
    expect(held.data.map((row) => row['v'])).toEqual(Array.from({ length: 100 }, () => 0))
  })
  it('getRow reads published state, not pending changes', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), utd])
    store.applyBatch([upd('a', { v: 2 }), ins('b', { v: 3 })])
    expect(store.getRow('a')).toEqual({ v: 1 })
    expect(store.getRow('b')).toBeUndefined()
  })
})

describe('ShapeStore notifications', () => {
  it('subscribers never see a half-synced shape during a multi-batch initial sync', () => {
    const store = new ShapeStore()
    const seen: unknown[] = []
    store.subscribe(() => seen.push(store.getSnapshot().data))
    store.applyBatch([ins('a', { v: 1 })])
    store.applyBatch([ins('b', { v: 2 })])
    store.applyBatch([ins('c', { v: 3 }), snapEnd])
    expect(seen).toEqual([])
    expect(store.getSnapshot().data).toEqual([])
    store.applyBatch([utd])
    expect(seen).toEqual([[{ v: 1 }, { v: 2 }, { v: 3 }]])
  })

  it('notifies once per batch however many rows changed, and not for a no-op batch', () => {
    const store = new ShapeStore()
    const listener = vi.fn()
    store.subscribe(listener)
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 1 }), utd])
    expect(listener).toHaveBeenCalledTimes(1)
    store.applyBatch([utd])
    store.applyBatch([ins('a', { v: 1 }), utd])
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it.each([
    { name: 'carries equal values', update: { id: 1, x: 1 }, kept: true },
    { name: 'carries a subset of equal values', update: { x: 1 }, kept: true },
    { name: 'carries nothing', update: {}, kept: true },
    { name: 'changes one field', update: { id: 1, x: 2 }, kept: false },
    { name: 'adds a field', update: { z: 1 }, kept: false },
    { name: 'sets a present field to undefined', update: { y: undefined }, kept: false },
    { name: 'carries NaN where NaN is (Object.is)', update: { n: NaN }, kept: true },
    { name: 'carries -0 where 0 is (Object.is)', update: { x0: -0 }, kept: false },
  ])('an update that $name keeps the row object: $kept', ({ update, kept }) => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { id: 1, x: 1, y: 'y', n: NaN, x0: 0 }), utd])
    const before = store.getRow('a')
    const listener = vi.fn()
    store.subscribeKey('a', listener)
    store.applyBatch([upd('a', update as Row), utd])
    expect(store.getRow('a') === before).toBe(kept)
    expect(listener).toHaveBeenCalledTimes(kept ? 0 : 1)
    expect(store.getRow('a')).toEqual({ ...before, ...update })
  })

  it('must-refetch shows no empty flash and notifies only changed keys after the refetch', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 2 }), utd])
    const before = store.getSnapshot()
    const all = vi.fn()
    const onA = vi.fn()
    const onB = vi.fn()
    store.subscribe(all)
    store.subscribeKey('a', onA)
    store.subscribeKey('b', onB)
    store.applyBatch([refetch])
    expect(all).not.toHaveBeenCalled()
    expect(store.getSnapshot()).toBe(before)
    expect(store.isUpToDate).toBe(false)
    store.applyBatch([ins('a', { v: 1 }), ins('b', { v: 20 })])
    expect(store.getSnapshot()).toBe(before)
    store.applyBatch([utd])
    expect(all).toHaveBeenCalledTimes(1)
    expect(onA).not.toHaveBeenCalled()
    expect(onB).toHaveBeenCalledTimes(1)
    expect(store.getRow('a')).toBe(before.rows.get('a'))
    expect(store.getSnapshot().keys).toBe(before.keys)
  })

  it('reset() behaves like a must-refetch message', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { v: 1 }), utd])
    store.reset()
    expect(store.getRow('a')).toEqual({ v: 1 })
    store.applyBatch([ins('b', { v: 2 }), utd])
    expect(published(store)).toEqual({ b: { v: 2 } })
  })

  it('fires a key listener on insert and delete of that key', () => {
    const store = new ShapeStore()
    const onA = vi.fn()
    store.subscribeKey('a', onA)
    store.applyBatch([ins('a', { v: 1 }), utd])
    expect(onA).toHaveBeenCalledTimes(1)
    store.applyBatch([del('a'), utd])
    expect(onA).toHaveBeenCalledTimes(2)
  })

  it('unsubscribe stops notifications, also from inside a notification', () => {
    const store = new ShapeStore()
    const second = vi.fn()
    const unsubscribeSecond = store.subscribe(second)
    const first = vi.fn(() => unsubscribeSecond())
    const unsubscribeFirst = store.subscribe(first)
    const onKey = vi.fn()
    const unsubscribeKey = store.subscribeKey('a', onKey)
    store.applyBatch([ins('a', { v: 1 }), utd])
    unsubscribeFirst()
    unsubscribeKey()
    unsubscribeKey()
    store.applyBatch([ins('a', { v: 2 }), utd])
    expect(first).toHaveBeenCalledTimes(1)
    expect(second).toHaveBeenCalledTimes(1)
    expect(onKey).toHaveBeenCalledTimes(1)
  })

  it('the same function subscribed twice is two subscriptions', () => {
    const store = new ShapeStore()
    const listener = vi.fn()
    const off1 = store.subscribe(listener)
    store.subscribe(listener)
    off1()
    store.applyBatch([utd])
    expect(listener).toHaveBeenCalledTimes(1)
  })

  it('isolates a throwing listener and reports it to onListenerError', () => {
    const errors: unknown[] = []
    const store = new ShapeStore({ onListenerError: (error) => errors.push(error) })
    const boom = new Error('boom')
    const after = vi.fn()
    const afterKey = vi.fn()
    store.subscribe(() => {
      throw boom
    })
    store.subscribe(after)
    store.subscribeKey('a', () => {
      throw boom
    })
    store.subscribeKey('a', afterKey)
    store.applyBatch([ins('a', { v: 1 }), utd])
    expect(after).toHaveBeenCalledTimes(1)
    expect(afterKey).toHaveBeenCalledTimes(1)
    expect(errors).toEqual([boom, boom])
    expect(store.getRow('a')).toEqual({ v: 1 })
  })

  it('rethrows a listener error in a microtask by default', () => {
    const tasks: (() => void)[] = []
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void tasks.push(task))
    const store = new ShapeStore()
    const after = vi.fn()
    store.subscribe(() => {
      throw new Error('late')
    })
    store.subscribe(after)
    store.applyBatch([utd])
    expect(after).toHaveBeenCalledTimes(1)
    expect(tasks).toHaveLength(1)
    expect(() => tasks[0]?.()).toThrow('late')
  })
})

describe('ShapeStore staging', () => {
  /** Everything observable about the pending layer: what the next up-to-date would publish, and old values. */
  const outcome = (store: ShapeStore) => {
    store.applyBatch([utd])
    const rows = Object.fromEntries(store.getSnapshot().keys.map((key) => [key, store.getSnapshot().rows.get(key)]))
    const old = Object.fromEntries(store.getSnapshot().keys.map((key) => [key, store.getOldValue(key)]))
    return { rows, old, keys: store.getSnapshot().keys }
  }

  it('staged changes publish with the next up-to-date exactly as if the whole response had been applied at once', () => {
    const staged = new ShapeStore()
    const whole = new ShapeStore()
    const first = [ins('a', { v: 1 }), ins('b', { v: 2 })]
    const second = [upd('a', { v: 3 }, { v: 1 }), del('b'), ins('c', { v: 4 })]
    staged.stage(first)
    staged.stage(second)
    expect(staged.getSnapshot().isUpToDate).toBe(false)
    staged.settleStaged(true)
    staged.applyBatch([ins('d', { v: 5 }), utd])
    whole.applyBatch([...first, ...second, ins('d', { v: 5 }), utd])
    expect(outcome(staged)).toEqual(outcome(whole))
  })

  it('settleStaged(false) restores the pending layer exactly, whatever was pending or published before', () => {
    let seed = 11
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 16) % n
    }
    const batch = (size: number, step: number): Msg[] =>
      Array.from({ length: size }, () => {
        const key = `k${random(12)}`
        const op = random(3)
        return op === 0 ? ins(key, { v: step }) : op === 1 ? upd(key, { v: -step }, { v: step }) : del(key)
      })
    /** A history batch: changes, sometimes with a must-refetch among them (the cleared pending layer). */
    const historyBatch = (size: number, step: number): Msg[] => {
      const changes = batch(size, step)
      if (random(4) === 0) changes.splice(random(changes.length + 1), 0, refetch)
      return changes
    }
    for (let round = 0; round < 200; round++) {
      const reverted = new ShapeStore()
      const control = new ShapeStore()
      // The same history on both: maybe a published state, maybe pending changes on top of it.
      const history = [historyBatch(random(6), 1), historyBatch(random(6), 2)]
      const published = random(2) === 0
      for (const store of [reverted, control]) store.applyBatch([...history[0]!, ...(published ? [utd] : [])])
      const pendingOnTop = history[1]!
      reverted.applyBatch(pendingOnTop)
      control.applyBatch(pendingOnTop)
      reverted.stage(batch(1 + random(8), 3))
      reverted.stage(batch(random(4), 4))
      reverted.settleStaged(false)
      // One more batch on both: a pending entry the revert left behind would show through it.
      const after = batch(random(5), 5)
      reverted.applyBatch(after)
      control.applyBatch(after)
      expect(outcome(reverted)).toEqual(outcome(control))
    }
  })

  it('never publishes while staging, and refuses control messages, a batch and a reset before settling', () => {
    const store = new ShapeStore()
    const listener = vi.fn()
    store.subscribe(listener)
    expect(() => store.stage([utd])).toThrow(/change messages only/)
    store.stage([ins('a', { v: 1 })])
    expect(listener).not.toHaveBeenCalled()
    expect(() => store.applyBatch([utd])).toThrow(/settle/)
    expect(() => store.reset()).toThrow(/settle/)
    store.settleStaged(false)
    store.applyBatch([utd])
    expect(store.getSnapshot().rows.size).toBe(0)
  })
})

describe('ShapeStore metadata', () => {
  it('sets lastSyncedAt from the injected clock at every batch with up-to-date', () => {
    let time = 100
    const store = new ShapeStore({ now: () => time })
    expect(store.lastSyncedAt).toBeUndefined()
    store.applyBatch([ins('a', { v: 1 })])
    expect(store.lastSyncedAt).toBeUndefined()
    store.applyBatch([utd])
    expect(store.lastSyncedAt).toBe(100)
    time = 250
    store.applyBatch([utd])
    expect(store.lastSyncedAt).toBe(250)
    store.applyBatch([refetch])
    expect(store.lastSyncedAt).toBe(250)
  })

  it('isUpToDate follows up-to-date and must-refetch', () => {
    const store = new ShapeStore()
    expect(store.isUpToDate).toBe(false)
    store.applyBatch([ins('a', {}), snapEnd])
    expect(store.isUpToDate).toBe(false)
    store.applyBatch([utd])
    expect(store.isUpToDate).toBe(true)
    store.applyBatch([refetch])
    expect(store.isUpToDate).toBe(false)
    expect(store.getSnapshot().isUpToDate).toBe(true)
  })

  it('keeps the old_value of the last published update per key', () => {
    const store = new ShapeStore()
    store.applyBatch([ins('a', { id: 1, t: 'x' }), ins('b', { id: 2, t: 'y' }), utd])
    store.applyBatch([upd('a', { id: 1, t: 'x2' }, { t: 'x' })])
    expect(store.getOldValue('a')).toBeUndefined()
    store.applyBatch([upd('b', { id: 2, t: 'y2' }, { t: 'y' }), utd])
    expect(store.getOldValue('a')).toEqual({ t: 'x' })
    expect(store.getOldValue('b')).toEqual({ t: 'y' })
    store.applyBatch([upd('a', { id: 1, t: 'x3' }, { t: 'x2' }), utd])
    expect(store.getOldValue('a')).toEqual({ t: 'x2' })
    store.applyBatch([del('a'), utd])
    expect(store.getOldValue('a')).toBeUndefined()
    expect(store.getOldValue('b')).toEqual({ t: 'y' })
    store.applyBatch([refetch, ins('b', { id: 2, t: 'y2' }), utd])
    expect(store.getOldValue('b')).toBeUndefined()
  })
})
