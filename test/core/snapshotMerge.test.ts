import { describe, expect, it } from 'vitest'
import type { ChangeMessage, Message } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'
import { SnapshotMerge } from '../../src/core/snapshotMerge'
import { SnapshotSink } from '../../src/core/snapshotSink'
import { isVisibleIn, SnapshotTracker, xid8Near } from '../../src/core/snapshotTracker'
import type { SnapshotMetadata } from '../../src/core/snapshotTracker'

type Row = { id: number; title: string }
const UP_TO_DATE: Message<Row> = { headers: { control: 'up-to-date' } }
const insert = (id: number, title: string): ChangeMessage<Row> => ({ key: `k${id}`, value: { id, title }, headers: { operation: 'insert' } })
const update = (id: number, title: string, txid: number | undefined, lsn: number): ChangeMessage<Row> => ({
  key: `k${id}`,
  value: { id, title },
  headers: { operation: 'update', lsn: String(lsn), op_position: 0, ...(txid === undefined ? {} : { txids: [txid] }) },
})
// Transactions below 10 and 12 had committed when the snapshot was taken; 11 was in progress; 20 and up had not begun.
const METADATA: SnapshotMetadata = { xmin: '10', xmax: '20', xip_list: ['11'], database_lsn: '100', snapshot_mark: 1 }

function upToDateSink(): { store: ShapeStore<Row>; sink: SnapshotSink<Row>; merge: SnapshotMerge<Row> } {
  const store = new ShapeStore<Row>({ now: () => 0 })
  store.applyBatch([UP_TO_DATE])
  const sink = new SnapshotSink(store)
  return { store, sink, merge: new SnapshotMerge(sink) }
}

describe('snapshotTracker', () => {
  it('applies the MVCC visibility rule', () => {
    const snapshot = { xmin: 10n, xmax: 20n, xip: new Set([11n]) }
    expect([5n, 10n, 11n, 12n, 19n, 20n, 25n].map((xid) => isVisibleIn(xid, snapshot))).toEqual([true, true, false, true, true, false, false])
  })

  it('reads a 32-bit xid in the epoch nearest the snapshot xmax', () => {
    const epoch1 = 2n ** 32n
    expect(xid8Near(5, epoch1 + 10n)).toBe(epoch1 + 5n)
    expect(xid8Near(2 ** 32 - 3, epoch1 + 10n)).toBe(epoch1 - 3n)
    expect(xid8Near(15, 10n)).toBe(15n)
  })

  it('drops a change only for a key the snapshot holds, with a visible transaction, and never without txids', () => {
    const tracker = new SnapshotTracker()
    tracker.add(METADATA, new Set(['k1']))
    expect(tracker.holds(update(2, 'other key', 12, 90))).toBe(false)
    expect(tracker.holds(update(1, 'in progress then', 11, 90))).toBe(false)
    expect(tracker.holds(update(1, 'no txids', undefined, 90))).toBe(false)
    expect(tracker.holds(update(1, 'visible', 12, 90))).toBe(true)
    expect(tracker.size).toBe(1)
  })

  it('retires a snapshot once a change committed after it arrives', () => {
    const tracker = new SnapshotTracker()
    tracker.add(METADATA, new Set(['k1']))
    expect(tracker.holds(update(2, 'later', 11, 101))).toBe(false)
    expect(tracker.size).toBe(0)
    tracker.add(METADATA, new Set(['k1']))
    expect(tracker.holds(update(2, 'later', 21, 99))).toBe(false)
    expect(tracker.size).toBe(0)
    expect(tracker.holds(update(1, 'visible, but the snapshot is retired', 12, 90))).toBe(false)
  })
})

describe('SnapshotSink and SnapshotMerge', () => {
  it('writes the page and publishes it at once, then drops the changes it holds', async () => {
    const { store, sink, merge } = upToDateSink()
    const loading = merge.begin()
    expect(await merge.load(loading.generation, METADATA, [insert(1, 'snapshot')])).toBe(true)
    loading.end()
    const published = store.getSnapshot()
    expect(published.data).toEqual([{ id: 1, title: 'snapshot' }])
    sink.applyBatch([update(1, 'held', 12, 90), UP_TO_DATE])
    expect(store.getRow('k1')).toEqual({ id: 1, title: 'snapshot' })
    expect(store.getOldValue('k1')).toBeUndefined()
    sink.applyBatch([update(1, 'after', 20, 120), UP_TO_DATE])
    expect(store.getRow('k1')).toEqual({ id: 1, title: 'after' })
  })

  it('a change the page already holds is dropped, yet its transaction is published (a write waiting for it is confirmed)', async () => {
    const { store, sink, merge } = upToDateSink()
    const published: number[][] = []
    store.observeSynced((synced) => published.push([...synced.txids]))
    const loading = merge.begin()
    expect(await merge.load(loading.generation, METADATA, [insert(1, 'snapshot')])).toBe(true)
    loading.end()
    sink.applyBatch([update(1, 'held', 12, 90), UP_TO_DATE])
    expect(store.getRow('k1')).toEqual({ id: 1, title: 'snapshot' })
    expect(published.flat()).toContain(12)
    // Staged and reverted, the held transaction goes back with the response.
    sink.stage([update(1, 'held again', 13, 91)])
    sink.settleStaged(false)
    sink.applyBatch([UP_TO_DATE])
    expect(published.flat()).not.toContain(13)
  })

  it('keeps a row changed while the snapshot was in flight by a transaction the snapshot does not see', async () => {
    const { store, sink, merge } = upToDateSink()
    store.applyBatch([insert(1, 'old'), insert(2, 'old'), UP_TO_DATE])
    const loading = merge.begin()
    sink.applyBatch([update(1, 'newer than the snapshot', 25, 130), update(2, 'in the snapshot', 12, 90), UP_TO_DATE])
    const rows = [insert(1, 'snapshot'), insert(2, 'snapshot')].flatMap((row) => loading.rowFor(METADATA, row) ?? [])
    expect(await merge.load(loading.generation, METADATA, rows)).toBe(true)
    loading.end()
    expect(store.getRow('k1')).toEqual({ id: 1, title: 'newer than the snapshot' })
    expect(store.getRow('k2')).toEqual({ id: 2, title: 'snapshot' })
  })

  it("replays the partial updates a changes_only store dropped while the page was in flight over the page's rows", async () => {
    type Wide = { id: number; title: string; n?: number }
    const store = new ShapeStore<Wide>({ now: () => 0, log: 'changes_only' })
    store.applyBatch([UP_TO_DATE])
    const sink = new SnapshotSink(store)
    const merge = new SnapshotMerge(sink)
    const loading = merge.begin()
    const change = (id: number, operation: 'update' | 'delete', value: Partial<Wide>, txid: number): ChangeMessage<Wide> =>
      ({ key: `k${id}`, value: value as Wide, headers: { operation, txids: [txid] } })
    // Replica default: an update carries the primary key and the changed columns only.
    sink.applyBatch([change(1, 'update', { id: 1, title: 'in the snapshot' }, 12), change(1, 'update', { id: 1, title: 'newer' }, 25), change(2, 'delete', { id: 2 }, 26), UP_TO_DATE])
    expect(store.getSnapshot().data).toEqual([])
    const page: ChangeMessage<Wide>[] = [1, 2, 3].map((id) => ({ key: `k${id}`, value: { id, title: 'snapshot', n: id }, headers: { operation: 'insert' } }))
    const rows = page.flatMap((row) => loading.rowFor(METADATA, row) ?? [])
    expect(await merge.load(loading.generation, METADATA, rows)).toBe(true)
    loading.end()
    expect(store.getSnapshot().data).toEqual([{ id: 1, title: 'newer', n: 1 }, { id: 3, title: 'snapshot', n: 3 }])
  })

  it('waits for a staged response to settle, and refuses a page from before a reset', async () => {
    const { store, sink, merge } = upToDateSink()
    sink.stage([insert(3, 'staged')])
    const loading = merge.begin()
    let loaded: boolean | undefined
    const pending = merge.load(loading.generation, METADATA, [insert(1, 'snapshot')]).then((value) => (loaded = value))
    await Promise.resolve()
    expect(loaded).toBeUndefined()
    sink.settleStaged(true)
    sink.applyBatch([UP_TO_DATE])
    await pending
    expect(loaded).toBe(true)
    expect(store.getRow('k1')).toEqual({ id: 1, title: 'snapshot' })

    const stale = merge.begin()
    sink.reset()
    expect(await merge.load(stale.generation, METADATA, [insert(9, 'from the old log')])).toBe(false)
    expect(store.getRow('k9')).toBeUndefined()
  })
})
