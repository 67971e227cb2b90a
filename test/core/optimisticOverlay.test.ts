import { describe, expect, it } from 'vitest'
import type { Message, WireRow } from '../../src/core/protocol'
import { InvalidOptionsError } from '../../src/core/errors'
import { RowKeyError } from '../../src/core/rowKey'
import { ShapeClient } from '../../src/core/shapeClient'
import { ShapeStore } from '../../src/core/shapeStore'
import { TxidTimeoutError } from '../../src/core/txid'
import { RECENT_TXIDS_BOUND } from '../../src/core/txidTracker'
import { catchUpResponse, FakeShapeServer, keyOf, liveResponse, mustRefetchResponse, snapshotRow } from './support/fakeShapeServer'
import type { PendingRequest } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { fakeVisibility } from './support/fakeAdapters'
import type { VisibilityAdapter } from '../../src/core/visibility'
import { createTestShapeServer } from '../../src/testing'

interface Item {
  id: number
  title: string | null
}

const url = 'http://localhost:3000/v1/shape'
const RELATION = ['public', 'items'] as const

/** A live change of transaction `txid` (the fake server's helper derives txids from the LSN; these tests pick them). */
function txChange(operation: 'insert' | 'update' | 'delete', id: number, title: string | null | undefined, txid: number, lsn: number): Message<WireRow> {
  const value: WireRow = { id: String(id) }
  if (title !== undefined) value.title = title
  return { key: keyOf(id), value, headers: { operation, relation: RELATION, lsn: String(lsn), op_position: 0, txids: [txid], last: true } }
}

/** A shape synced to rows 1 ("one") and 2 ("two"), its live request pending, and a log of what each publish showed. */
async function setup(options: { snapshotEnd?: Message<WireRow>; visibility?: VisibilityAdapter } = {}) {
  const server = new FakeShapeServer()
  const clock = new ManualClock()
  const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.5, visibility: options.visibility ?? null })
  const shape = client.shape<Item>({ url, params: { table: 'items' } })
  const release = shape.retain()
  const first = await server.nextRequest()
  const rows = [snapshotRow(1, 'one'), snapshotRow(2, 'two'), ...(options.snapshotEnd ? [options.snapshotEnd] : [])]
  first.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', messages: rows }))
  await shape.whenUpToDate()
  let live = await server.nextRequest()
  let offset = 10
  const publishes: { row1: Item | undefined; row3: Item | undefined; pending1: boolean }[] = []
  shape.subscribe(() => {
    const snapshot = shape.getSnapshot()
    publishes.push({ row1: snapshot.rows.get(keyOf(1)), row3: snapshot.rows.get(keyOf(3)), pending1: snapshot.isPending(keyOf(1)) })
  })
  /** Answers the pending live request with `messages` and waits until they are published (or the next request). */
  const deliver = async (messages: Message<WireRow>[]): Promise<void> => {
    const request: PendingRequest = live
    const next = offset + 1
    request.respond(liveResponse({ requestOffset: `${offset}_0`, offset: `${next}_0`, cursor: String(next), lsn: String(next), messages }))
    offset = next
    live = await server.nextRequest()
  }
  const done = async () => {
    release()
    client.dispose()
  }
  return { server, clock, client, shape, publishes, deliver, done, nextLive: () => live, setLive: (r: PendingRequest) => (live = r) }
}

/** A commit the test resolves or rejects by hand. */
function manualCommit() {
  let resolve!: (value: { txid: number | bigint | string | readonly (number | string)[] }) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<{ txid: number | bigint | string | readonly (number | string)[] }>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { commit: () => promise, resolve, reject }
}

/** Whether `whenTxid(txid)` resolves before any time passes (a pending wait rejects when the clock moves by 0 ms). */
async function seenAtOnce(shape: { whenTxid(txid: number, options: { timeoutMs: number }): Promise<void> }, clock: ManualClock, txid: number): Promise<boolean> {
  const outcome = settled(shape.whenTxid(txid, { timeoutMs: 0 }))
  clock.advance(0)
  const result = await outcome
  if (!result.ok && !(result.error instanceof TxidTimeoutError)) throw result.error
  return result.ok
}

const settled = <T>(promise: Promise<T>) => promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))

describe('optimistic writes', () => {
  it('a write waiting for its txid keeps the stream running on a hidden page, which pauses once it is confirmed', async () => {
    const page = fakeVisibility()
    const { shape, nextLive, done } = await setup({ visibility: page.visibility })
    const { commit, resolve } = manualCommit()
    const written = settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'edited' }), commit }))
    resolve({ txid: 500 })
    page.setHidden(true)
    // Paused, the stream could never deliver txid 500: the write would time out and roll back although it landed.
    expect(shape.getStatus().phase).toBe('live')
    const live = nextLive()
    expect(live.signal.aborted).toBe(false)
    live.respond(liveResponse({ requestOffset: '10_0', offset: '11_0', cursor: '11', lsn: '11', messages: [txChange('update', 1, 'edited', 500, 11)] }))
    expect((await written).ok).toBe(true)
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'edited' })
    expect(shape.getStatus().phase).toBe('paused')
    // The confirming response's position was taken before the pause: the stream resumes after it, not before it.
    expect(shape.getStatus().offset).toBe('11_0')
    // A write made while the page is hidden wakes the stream for its confirmation.
    const second = manualCommit()
    void settled(shape.mutate({ apply: (draft) => draft.update({ id: 2, title: 'later' }), commit: second.commit }))
    expect(shape.getStatus().phase).not.toBe('paused')
    await done()
  })

  it('shows the write in the very next snapshot, in one publish that notifies only the touched key', async () => {
    const { shape, publishes, done } = await setup()
    const perKey = { 1: 0, 2: 0, 3: 0 }
    for (const id of [1, 2, 3] as const) shape.subscribeKey(keyOf(id), () => perKey[id]++)
    const before = shape.getSnapshot()
    const row2 = before.rows.get(keyOf(2))
    const { commit } = manualCommit()
    void settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'edited' }), commit }))
    const after = shape.getSnapshot()
    expect(after).not.toBe(before)
    expect(after.rows.get(keyOf(1))).toEqual({ id: 1, title: 'edited' })
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'edited' })
    expect(after.isPending(keyOf(1))).toBe(true)
    expect(after.isPending(keyOf(2))).toBe(false)
    expect(shape.isPending(keyOf(1))).toBe(true)
    expect(before.isPending(keyOf(1))).toBe(false)
    expect(before.rows.get(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(after.rows.get(keyOf(2))).toBe(row2)
    expect(after.keys).toBe(before.keys)
    expect(after.version).toBeGreaterThan(before.version)
    expect(publishes).toHaveLength(1)
    expect(perKey).toEqual({ 1: 1, 2: 0, 3: 0 })
    // What dehydrate saves is synced rows only, never an unconfirmed write.
    expect(shape.getHydrationState()?.rows.get(keyOf(1))).toEqual({ id: 1, title: 'one' })
    await done()
  })

  it('drops the overlay in the same publish that applies the confirming transaction (no flicker), then resolves', async () => {
    const { shape, publishes, deliver, done } = await setup()
    const { commit, resolve } = manualCommit()
    const result = shape.mutate({ apply: (draft) => draft.insert({ id: 3, title: 'new' }), commit })
    expect(shape.getSnapshot().keys).toEqual([keyOf(1), keyOf(2), keyOf(3)])
    expect(shape.getSnapshot().data.map((row) => row.title)).toEqual(['one', 'two', 'new'])
    resolve({ txid: 500 })
    await Promise.resolve()
    await deliver([txChange('insert', 3, 'new (from server)', 500, 11)])
    await expect(result).resolves.toEqual({ txids: ['500'] })
    expect(publishes.map((p) => p.row3?.title)).toEqual(['new', 'new (from server)'])
    const snapshot = shape.getSnapshot()
    expect(snapshot.isPending(keyOf(3))).toBe(false)
    expect(snapshot.rows.size).toBe(3)
    expect([...snapshot.rows.keys()]).toEqual([keyOf(1), keyOf(2), keyOf(3)])
    await done()
  })

  it('the confirming publish notifies each touched key listener once, and no other key', async () => {
    const { shape, deliver, done } = await setup()
    const perKey = { 1: 0, 2: 0, 3: 0 }
    for (const id of [1, 2, 3] as const) shape.subscribeKey(keyOf(id), () => perKey[id]++)
    const a = manualCommit()
    const b = manualCommit()
    const first = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'one!' }), commit: a.commit })
    // Transaction 502 touches row 1 only: row 2's synced value does not change, only its pending state does.
    const second = shape.mutate({ apply: (draft) => draft.update({ id: 2, title: 'two' }), commit: b.commit })
    expect(perKey).toEqual({ 1: 1, 2: 1, 3: 0 })
    a.resolve({ txid: 501 })
    b.resolve({ txid: 502 })
    await Promise.resolve()
    await deliver([txChange('update', 1, 'one!', 501, 11), txChange('update', 1, 'one!', 502, 11)])
    await Promise.all([first, second])
    expect(shape.isPending(keyOf(2))).toBe(false)
    expect(perKey).toEqual({ 1: 2, 2: 2, 3: 0 })
    await done()
  })

  it('a batch that does not carry the txid leaves the overlay in place over the new synced rows', async () => {
    const { shape, deliver, done } = await setup()
    const { commit, resolve } = manualCommit()
    void settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'mine' }), commit }))
    resolve({ txid: 77 })
    await deliver([txChange('update', 1, 'theirs', 76, 11), txChange('insert', 4, 'four', 76, 11)])
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'mine' })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(true)
    expect(shape.getSnapshot().rows.has(keyOf(4))).toBe(true)
    await done()
  })

  it('snapshots keep the keys array while membership is unchanged, and iterate rows in synced order plus new rows', async () => {
    const { shape, deliver, done } = await setup()
    void settled(shape.mutate({ apply: (draft) => draft.insert({ id: 3, title: 'new' }), commit: () => new Promise<never>(() => undefined) }))
    const first = shape.getSnapshot()
    void settled(shape.mutate({ apply: (draft) => draft.update({ id: 3, title: 'newer' }), commit: () => new Promise<never>(() => undefined) }))
    const second = shape.getSnapshot()
    expect(second).not.toBe(first)
    expect(second.keys).toBe(first.keys)
    expect(first.rows.get(keyOf(3))).toEqual({ id: 3, title: 'new' })
    expect(second.rows.get(keyOf(3))).toEqual({ id: 3, title: 'newer' })
    await deliver([txChange('update', 2, 'two!', 1, 11)])
    const third = shape.getSnapshot()
    expect(third.keys).toBe(first.keys)
    expect([...third.rows]).toEqual([
      [keyOf(1), { id: 1, title: 'one' }],
      [keyOf(2), { id: 2, title: 'two!' }],
      [keyOf(3), { id: 3, title: 'newer' }],
    ])
    expect(third.data).toEqual([...third.rows.values()])
    expect(third.rows.size).toBe(3)
    expect(first.rows.get(keyOf(2))).toEqual({ id: 2, title: 'two' })
    await done()
  })

  it('rolls back in one publish and rejects with the commit error when commit rejects', async () => {
    const { shape, publishes, done } = await setup()
    const { commit, reject } = manualCommit()
    const perKey: number[] = []
    shape.subscribeKey(keyOf(2), () => perKey.push(2))
    const result = settled(shape.mutate({ apply: (draft) => { draft.delete({ id: 1 }); draft.insert({ id: 3, title: 'x' }) }, commit }))
    expect(shape.getSnapshot().keys).toEqual([keyOf(2), keyOf(3)])
    expect(shape.getSnapshot().rows.size).toBe(2)
    const failure = new Error('title refused')
    reject(failure)
    const outcome = await result
    expect(outcome).toEqual({ ok: false, error: failure })
    expect(publishes).toHaveLength(2)
    expect(shape.getSnapshot().keys).toEqual([keyOf(1), keyOf(2)])
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(false)
    expect(perKey).toEqual([])
    await done()
  })

  it('rolls back and rejects with TxidTimeoutError when the txid does not arrive in time', async () => {
    const { shape, clock, publishes, done } = await setup()
    const result = settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ txid: '900' }), timeoutMs: 1000 }))
    await Promise.resolve()
    await Promise.resolve()
    clock.advance(1000)
    const outcome = await result
    expect(outcome.ok).toBe(false)
    const error = (outcome as { error: TxidTimeoutError }).error
    expect(error).toBeInstanceOf(TxidTimeoutError)
    expect(error.txids).toEqual(['900'])
    expect(error.message).toMatch(/touches no row of this shape never shows up/)
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(publishes.map((p) => p.row1?.title)).toEqual(['x', 'one'])
    await done()
  })

  it('waits 30 s for the txid by default, then rolls back and rejects with TxidTimeoutError', async () => {
    const { shape, clock, done } = await setup()
    const result = settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ txid: 901n }) }))
    await Promise.resolve()
    await Promise.resolve()
    clock.advance(29_999)
    await Promise.resolve()
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'x' })
    expect(shape.isPending(keyOf(1))).toBe(true)
    clock.advance(1)
    const outcome = await result
    expect((outcome as { error: TxidTimeoutError }).error).toMatchObject({ name: 'TxidTimeoutError', reason: 'timeout', timeoutMs: 30_000, txids: ['901'] })
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(shape.isPending(keyOf(1))).toBe(false)
    await done()
  })

  it('a commit returning several txids is confirmed only once the shape saw all of them', async () => {
    const { shape, deliver, publishes, done } = await setup()
    const { commit, resolve } = manualCommit()
    let confirmed = false
    const result = shape.mutate({ apply: (draft) => { draft.update({ id: 1, title: 'A' }); draft.insert({ id: 3, title: 'C' }) }, commit }).then((value) => {
      confirmed = true
      return value
    })
    resolve({ txid: [201, '202'] })
    await deliver([txChange('update', 1, 'A', 201, 11)])
    expect(confirmed).toBe(false)
    expect(shape.isPending(keyOf(1))).toBe(true)
    expect(shape.getRow(keyOf(3))).toEqual({ id: 3, title: 'C' })
    await deliver([txChange('insert', 3, 'C', 202, 12)])
    await expect(result).resolves.toEqual({ txids: ['201', '202'] })
    expect(shape.isPending(keyOf(1))).toBe(false)
    expect(shape.isPending(keyOf(3))).toBe(false)
    expect(publishes.map((p) => p.row3?.title)).toEqual(['C', 'C', 'C'])
    await done()
  })

  it('re-applies pending writes over the new rows after a 409 and confirms from the refetched snapshot', async () => {
    const { shape, server, publishes, done, nextLive, setLive } = await setup()
    const { commit, resolve } = manualCommit()
    const result = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'mine' }), commit })
    resolve({ txid: 42 })
    nextLive().respond(mustRefetchResponse('2-2'))
    const refetch = await server.nextRequest()
    expect(refetch.params.get('offset')).toBe('-1')
    // The new handle's snapshot does not contain the write yet (xmax 40 < 42): still pending, laid over new rows.
    refetch.respond(
      catchUpResponse({
        handle: '2-2',
        requestOffset: '-1',
        offset: '0_inf',
        lsn: '20',
        messages: [snapshotRow(1, 'refetched'), snapshotRow(5, 'five'), { headers: { control: 'snapshot-end', xmin: '40', xmax: '40', xip_list: [] } }],
      }),
    )
    const live = await server.nextRequest()
    setLive(live)
    let snapshot = shape.getSnapshot()
    expect(snapshot.keys).toEqual([keyOf(1), keyOf(5)])
    expect(snapshot.rows.get(keyOf(1))).toEqual({ id: 1, title: 'mine' })
    expect(snapshot.isPending(keyOf(1))).toBe(true)
    expect(publishes.every((p) => p.row1?.title === 'mine')).toBe(true)
    // A second refetch whose snapshot contains transaction 42 confirms it in that publish.
    live.respond(mustRefetchResponse('3-3'))
    const again = await server.nextRequest()
    again.respond(
      catchUpResponse({
        handle: '3-3',
        requestOffset: '-1',
        offset: '0_inf',
        lsn: '30',
        messages: [snapshotRow(1, 'mine'), { headers: { control: 'snapshot-end', xmin: '43', xmax: '45', xip_list: ['44'] } }],
      }),
    )
    await expect(result).resolves.toEqual({ txids: ['42'] })
    snapshot = shape.getSnapshot()
    expect(snapshot.isPending(keyOf(1))).toBe(false)
    expect(snapshot.keys).toEqual([keyOf(1)])
    expect(publishes.every((p) => p.row1?.title === 'mine')).toBe(true)
    await done()
  })

  it('stacks several pending writes on one row in order, and confirming the first keeps the second', async () => {
    const { shape, deliver, publishes, done } = await setup()
    const a = manualCommit()
    const b = manualCommit()
    const first = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'A' }), commit: a.commit })
    const second = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'B' }), commit: b.commit })
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'B' })
    a.resolve({ txid: 101 })
    b.resolve({ txid: 102 })
    await deliver([txChange('update', 1, 'A', 101, 11)])
    await expect(first).resolves.toEqual({ txids: ['101'] })
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'B' })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(true)
    await deliver([txChange('update', 1, 'B', 102, 12)])
    await expect(second).resolves.toEqual({ txids: ['102'] })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(false)
    expect(publishes.map((p) => p.row1?.title)).toEqual(['A', 'B', 'B', 'B'])
    await done()
  })

  it('rolling back the first of two stacked writes keeps the second over the synced row', async () => {
    const { shape, done } = await setup()
    const a = manualCommit()
    const b = manualCommit()
    void settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'A' }), commit: a.commit }))
    void settled(shape.mutate({ apply: (draft) => draft.delete(shape.rowKey({ id: 2 })), commit: b.commit }))
    a.reject(new Error('no'))
    await Promise.resolve()
    await Promise.resolve()
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(shape.getSnapshot().keys).toEqual([keyOf(1)])
    await done()
  })

  it('confirms at once when the txid was published before commit returned it', async () => {
    const { shape, deliver, publishes, done } = await setup()
    const { commit, resolve } = manualCommit()
    const result = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'fast' }), commit })
    await deliver([txChange('update', 1, 'fast', 333, 11)])
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(true)
    resolve({ txid: [333n as unknown as number] })
    await expect(result).resolves.toEqual({ txids: ['333'] })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(false)
    expect(publishes.map((p) => p.row1?.title)).toEqual(['fast', 'fast', 'fast'])
    await done()
  })

  it('refuses mutate options it cannot run with InvalidOptionsError naming them, and leaves nothing behind', async () => {
    const { shape, publishes, done } = await setup()
    const commit = async () => ({ txid: 1 })
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /mutate options must be an object, got undefined/],
      [{ commit }, /"apply" must be a function/],
      [{ apply: () => {} }, /"commit" must be a function/],
      [{ apply: () => {}, commit, timeoutMs: -1 }, /"timeoutMs" must be a number ≥ 0, got -1/],
    ]
    for (const [options, message] of bad) {
      const result = shape.mutate(options as never)
      await expect(result).rejects.toBeInstanceOf(InvalidOptionsError)
      await expect(shape.mutate(options as never)).rejects.toThrow(message)
    }
    expect(publishes).toHaveLength(0)
    await done()
  })

  it('refuses bad input with typed errors and leaves nothing behind', async () => {
    const { shape, publishes, done } = await setup()
    await expect(shape.mutate({ apply: (draft) => draft.insert({ title: 'no id' } as Item), commit: async () => ({ txid: 1 }) })).rejects.toBeInstanceOf(RowKeyError)
    await expect(shape.mutate({ apply: (draft) => draft.delete('1'), commit: async () => ({ txid: 1 }) })).rejects.toBeInstanceOf(RowKeyError)
    await expect(shape.mutate({ apply: () => { throw new Error('boom') }, commit: async () => ({ txid: 1 }) })).rejects.toThrow('boom')
    expect(publishes).toHaveLength(0)
    await expect(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ ok: true }) as never })).rejects.toBeInstanceOf(TypeError)
    await expect(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ txid: -1 }) })).rejects.toBeInstanceOf(TypeError)
    // Returning the fetch Response instead of its body: the message names it, not `{}`.
    const response = new Response(JSON.stringify({ txid: 5 }))
    await expect(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => response as never })).rejects.toThrow(
      /must resolve to \{ txid \}.*got a Response: return its body \(`return response\.json\(\)`\)/,
    )
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(shape.getSnapshot().isPending(keyOf(1))).toBe(false)
    await done()
  })

  it('an abort while waiting for the txid rolls back and rejects with TxidTimeoutError', async () => {
    const { shape, done } = await setup()
    const controller = new AbortController()
    const result = settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ txid: 5 }), signal: controller.signal }))
    await Promise.resolve()
    await Promise.resolve()
    controller.abort()
    const outcome = await result
    expect((outcome as { error: TxidTimeoutError }).error).toBeInstanceOf(TxidTimeoutError)
    expect((outcome as { error: TxidTimeoutError }).error.reason).toBe('aborted')
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    await done()
  })
})

describe('a changes_only shape', () => {
  it('folds an update as its store does: a row it does not hold is not shown, so confirming hides nothing', async () => {
    const server = createTestShapeServer({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }], rows: [{ id: 1, title: 'one' }] }] })
    const client = new ShapeClient({ fetch: server.fetch, visibility: null })
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' }, log: 'changes_only' })
    const release = shape.retain()
    await shape.whenUpToDate()
    const shown: (Item | undefined)[] = []
    shape.subscribe(() => shown.push(shape.getSnapshot().rows.get(keyOf(1))))
    const edit = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'edited' }), commit: () => server.update('items', { id: 1, title: 'edited' }) })
    expect(shape.getSnapshot().keys).toEqual([])
    expect(shape.isPending(keyOf(1))).toBe(true)
    await edit
    // The store ignores the update of a row it never loaded; the overlay showed none, so no row came and went.
    expect(shown.every((row) => row === undefined)).toBe(true)
    // A row the overlay itself inserted is held by it: an update on top merges into it.
    const add = shape.mutate({
      apply: (draft) => {
        draft.insert({ id: 2, title: 'two' })
        draft.update({ id: 2, title: 'deux' })
      },
      commit: () => new Promise<never>(() => undefined),
    })
    expect(shape.getSnapshot().rows.get(keyOf(2))).toEqual({ id: 2, title: 'deux' })
    release()
    client.dispose()
    await server.close()
    await settled(add)
  })
})

describe('row keys of a shape', () => {
  it('come from electric-schema once known, from the primaryKey option before that, and survive a refetch', async () => {
    const server = new FakeShapeServer()
    const client = new ShapeClient({ fetch: server.fetch, clock: new ManualClock(), random: () => 0.5, visibility: null })
    const plain = client.shape<Item>({ url, params: { table: 'items' } })
    expect(() => plain.rowKey({ id: 1 })).toThrow(/primary key of "public"."items" is not known yet/)
    await expect(plain.mutate({ apply: (draft) => draft.insert({ id: 9, title: 'early' }), commit: async () => ({ txid: 1 }) })).rejects.toBeInstanceOf(RowKeyError)
    const release = plain.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', messages: [snapshotRow(1, 'one')] }))
    await plain.whenUpToDate()
    expect(plain.rowKey({ id: 1, title: 'x' })).toBe(keyOf(1))
    ;(await server.nextRequest()).respond(mustRefetchResponse('2-2'))
    await server.nextRequest()
    expect(plain.rowKey({ id: 2 })).toBe(keyOf(2))
    const keyed = client.shape<Item>({ url, params: { table: 'items', where: 'id > 0' }, primaryKey: ['id'] })
    const early = settled(keyed.mutate({ apply: (draft) => draft.insert({ id: 9, title: 'early' }), commit: () => new Promise<never>(() => undefined) }))
    expect(keyed.getRow(keyOf(9))).toEqual({ id: 9, title: 'early' })
    expect(keyed.getSnapshot().isPending(keyOf(9))).toBe(true)
    expect(() => client.shape({ url, params: { table: 'items' }, primaryKey: [] })).toThrow(/primaryKey/)
    release()
    client.dispose()
    await early
  })
})

describe('closing the shape', () => {
  it('rolls pending writes back, rejects them and every whenTxid wait, and leaves no timer behind', async () => {
    const { shape, client, clock, publishes } = await setup()
    const committed = settled(shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'x' }), commit: async () => ({ txid: 70 }) }))
    const committing = settled(shape.mutate({ apply: (draft) => draft.delete({ id: 2 }), commit: () => new Promise<never>(() => undefined) }))
    const waiting = settled(shape.whenTxid(71))
    await Promise.resolve()
    await Promise.resolve()
    client.dispose()
    for (const outcome of await Promise.all([committed, committing, waiting])) {
      expect(outcome.ok).toBe(false)
      expect((outcome as { error: TxidTimeoutError }).error).toMatchObject({ name: 'TxidTimeoutError', reason: 'aborted' })
    }
    expect(shape.getRow(keyOf(1))).toEqual({ id: 1, title: 'one' })
    expect(shape.getSnapshot().keys).toEqual([keyOf(1), keyOf(2)])
    expect(publishes.at(-1)).toEqual({ row1: { id: 1, title: 'one' }, row3: undefined, pending1: false })
    expect(clock.pendingTimers).toBe(0)
    expect(shape.isClosed).toBe(true)
  })
})

describe('whenTxid', () => {
  it('resolves once the change is applied and published, with number, bigint and string txids', async () => {
    const { shape, deliver, done } = await setup()
    const seen: string[] = []
    const waits = [shape.whenTxid(600), shape.whenTxid(600n), shape.whenTxid('600')].map((p) => p.then(() => seen.push(shape.getRow(keyOf(1))?.title ?? '')))
    await Promise.resolve()
    expect(seen).toEqual([])
    await deliver([txChange('update', 1, 'six hundred', 600, 11)])
    await Promise.all(waits)
    expect(seen).toEqual(['six hundred', 'six hundred', 'six hundred'])
    await done()
  })

  it('resolves at once for a txid seen before it was called, within the documented bound', async () => {
    const { shape, clock, deliver, done } = await setup()
    await deliver([txChange('update', 1, 'x', 700, 11)])
    expect(await seenAtOnce(shape, clock, 700)).toBe(true)
    await deliver(Array.from({ length: RECENT_TXIDS_BOUND - 1 }, (_, i) => txChange('update', 2, `t${i}`, 1000 + i, 12)))
    expect(await seenAtOnce(shape, clock, 700)).toBe(true)
    await deliver([txChange('update', 2, 'last', 5000, 13)])
    expect(await seenAtOnce(shape, clock, 1000)).toBe(true)
    expect(await seenAtOnce(shape, clock, 700)).toBe(false)
    await done()
  })

  it('counts a txid visible in the published snapshot (snapshot-end) as seen', async () => {
    const { shape, clock, done } = await setup({ snapshotEnd: { headers: { control: 'snapshot-end', xmin: '50', xmax: '60', xip_list: ['55'] } } })
    expect(await seenAtOnce(shape, clock, 49)).toBe(true)
    expect(await seenAtOnce(shape, clock, 54)).toBe(true)
    expect(await seenAtOnce(shape, clock, 55)).toBe(false)
    expect(await seenAtOnce(shape, clock, 60)).toBe(false)
    await done()
  })

  it('reads a 32-bit txid in the epoch nearest the snapshot: a transaction after a wrapped snapshot is not seen yet', async () => {
    // pg_current_snapshot() of a cluster whose xid epoch wrapped once: 64-bit bounds, 32-bit txids on the changes.
    const epoch = 2 ** 32
    const { shape, clock, deliver, done } = await setup({
      snapshotEnd: { headers: { control: 'snapshot-end', xmin: String(epoch + 100), xmax: String(epoch + 110), xip_list: [String(epoch + 105)] } },
    })
    expect(await seenAtOnce(shape, clock, 99)).toBe(true)
    expect(await seenAtOnce(shape, clock, 4_294_967_000)).toBe(true)
    expect(await seenAtOnce(shape, clock, 105)).toBe(false)
    // Written after the snapshot: not in it, so a mutation waiting on it keeps its overlay until the change arrives.
    expect(await seenAtOnce(shape, clock, 120)).toBe(false)
    const { commit, resolve } = manualCommit()
    const result = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'edited' }), commit })
    resolve({ txid: 120 })
    await Promise.resolve()
    await Promise.resolve()
    expect(shape.isPending(keyOf(1))).toBe(true)
    await deliver([txChange('update', 1, 'edited', 120, 11)])
    await expect(result).resolves.toEqual({ txids: ['120'] })
    await done()
  })

  it('reads a txid just past the wrap as newer than a snapshot taken just before it', async () => {
    const { shape, clock, done } = await setup({ snapshotEnd: { headers: { control: 'snapshot-end', xmin: String(2 ** 32 - 10), xmax: String(2 ** 32 - 5), xip_list: [] } } })
    expect(await seenAtOnce(shape, clock, 2 ** 32 - 11)).toBe(true)
    expect(await seenAtOnce(shape, clock, 2 ** 32 - 3)).toBe(false)
    expect(await seenAtOnce(shape, clock, 3)).toBe(false)
    await done()
  })

  it('times out with an error explaining that a transaction touching no row of the shape never shows up', async () => {
    const { shape, clock, done } = await setup()
    const wait = settled(shape.whenTxid(12345))
    clock.advance(29_999)
    await Promise.resolve()
    clock.advance(1)
    const outcome = await wait
    const error = (outcome as { error: TxidTimeoutError }).error
    expect(error).toBeInstanceOf(TxidTimeoutError)
    expect(error.reason).toBe('timeout')
    expect(error.timeoutMs).toBe(30_000)
    expect(error.message).toMatch(/did not see transaction 12345 within 30000 ms/)
    expect(error.message).toMatch(/touches no row of this shape never shows up/)
    expect(error.message).toMatch(/pg_current_xact_id\(\)::xid/)
    await done()
  })

  it('rejects on abort, before or while waiting, and releases its timer', async () => {
    const { shape, clock, done } = await setup()
    const timersBefore = clock.pendingTimers
    const controller = new AbortController()
    const wait = settled(shape.whenTxid('9', { signal: controller.signal }))
    expect(clock.pendingTimers).toBe(timersBefore + 1)
    controller.abort(new Error('left the page'))
    const outcome = await wait
    expect((outcome as { error: TxidTimeoutError }).error).toMatchObject({ name: 'TxidTimeoutError', reason: 'aborted' })
    expect(clock.pendingTimers).toBe(timersBefore)
    await expect(shape.whenTxid('9', { signal: controller.signal })).rejects.toBeInstanceOf(TxidTimeoutError)
    await expect(shape.whenTxid(1.5)).rejects.toBeInstanceOf(TypeError)
    await expect(shape.whenTxid('0x10')).rejects.toBeInstanceOf(TypeError)
    await done()
  })

  it('does not count the txids of staged changes that were reverted, nor of changes a must-refetch discarded', () => {
    const store = new ShapeStore<Item>()
    const seen: number[][] = []
    store.observeSynced((synced) => seen.push([...synced.txids]))
    const change = (id: number, txid: number): Message<Item> => ({ key: keyOf(id), value: { id, title: 't' }, headers: { operation: 'insert', txids: [txid] } })
    store.stage([change(1, 800)])
    store.settleStaged(false)
    store.stage([change(2, 801)])
    store.settleStaged(true)
    store.applyBatch([{ headers: { control: 'up-to-date' } }])
    expect(seen).toEqual([[801]])
    store.applyBatch([change(3, 802), { headers: { control: 'must-refetch' } }, change(4, 803), { headers: { control: 'up-to-date' } }, change(5, 804)])
    expect(seen).toEqual([[801], [803]])
    store.applyBatch([{ headers: { control: 'up-to-date' } }])
    expect(seen).toEqual([[801], [803], [804]])
  })

})
