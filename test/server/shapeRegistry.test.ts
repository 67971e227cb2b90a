import { describe, expect, it } from 'vitest'
import { realClock } from '../../src/core/clock'
import type { WireRow } from '../../src/core/protocol'
import type { ShapeDefinition } from '../../src/server/shapeDefinition'
import { ShapeRegistry, visibleIn } from '../../src/server/shapeRegistry'
import type { ChangeSource, SnapshotRequest, SnapshotResult, TableDescription, Transaction } from '../../src/server/sources/source'

const table: TableDescription = {
  schema: 'public',
  name: 'items',
  columns: [
    { name: 'id', type: 'int4', dims: 0, notNull: true, pkIndex: 0, typeMod: -1 },
    { name: 'title', type: 'text', dims: 0, notNull: false, pkIndex: undefined, typeMod: -1 },
  ],
  primaryKey: ['id'],
}
const definition: ShapeDefinition = { table, columns: ['id', 'title'], where: undefined, replica: 'default', log: 'full', key: 'items' }

/** A source whose snapshot resolves only when the test says so, and whose transactions the test emits. */
function scriptedSource() {
  const listeners = new Set<(transaction: Transaction) => void>()
  let finish: (result: SnapshotResult) => void = () => {}
  let snapshotStarted: () => void = () => {}
  const started = new Promise<void>((resolve) => (snapshotStarted = resolve))
  const source: ChangeSource = {
    kind: 'memory',
    describeTable: async () => table,
    snapshot: () => {
      snapshotStarted()
      return new Promise((resolve) => (finish = resolve))
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    currentLsn: () => 0n,
    close: async () => {},
  }
  const commit = (xid: number, lsn: number, row: WireRow) =>
    listeners.forEach((listener) =>
      listener({ xid: String(xid), lsn: BigInt(lsn), changes: [{ schema: 'public', table: 'items', operation: 'insert', row, oldRow: undefined }] }),
    )
  /** A transaction that truncates the table, or (`schemaChanged`) changes its columns. */
  const truncate = (xid: number, lsn: number, name = 'items', field: 'truncated' | 'schemaChanged' = 'truncated') =>
    listeners.forEach((listener) => listener({ xid: String(xid), lsn: BigInt(lsn), changes: [], [field]: [{ schema: 'public', table: name }] }))
  return { source, commit, truncate, started, finish: (result: SnapshotResult) => finish(result), listeners }
}

describe('ShapeRegistry', () => {
  it('applies exactly the transactions the snapshot does not contain (subscribe before snapshot)', async () => {
    const scripted = scriptedSource()
    const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
    const creation = registry.getOrCreate(definition)
    expect(registry.getOrCreate(definition)).toBe(creation)
    await scripted.started
    scripted.commit(5, 10, { id: '5', title: 'before xmin: in the snapshot' })
    scripted.commit(7, 11, { id: '7', title: 'in progress at snapshot time: not in it' })
    scripted.commit(6, 12, { id: '6', title: 'below xmax, not in progress: in it' })
    scripted.commit(9, 13, { id: '9', title: 'after xmax: not in it' })
    scripted.finish({
      rows: [{ id: '5', title: 'x' }, { id: '6', title: 'y' }],
      xmin: '6',
      xmax: '8',
      xipList: ['7'],
      lsn: 12n,
      databaseLsn: 13n,
    })
    const log = await creation
    scripted.commit(10, 14, { id: '10', title: 'after creation' })
    const read = log.read('0_inf', Infinity)
    expect(read.kind).toBe('data')
    const ids = read.kind === 'data' ? read.messages.map((json) => JSON.parse(json).value.id) : []
    expect(ids).toEqual(['7', '9', '10'])
    expect(log.firstChunk().map((json) => JSON.parse(json).value?.id ?? JSON.parse(json).headers.control)).toEqual(['5', '6', 'snapshot-end'])
  })

  it('a failed snapshot unsubscribes and is forgotten; deletion makes the next request create a new handle', async () => {
    const scripted = scriptedSource()
    scripted.source.snapshot = async () => {
      throw new Error('boom')
    }
    const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
    await expect(registry.getOrCreate(definition)).rejects.toThrow('boom')
    expect(scripted.listeners.size).toBe(0)
    scripted.source.snapshot = async () => ({ rows: [], xmin: '1', xmax: '1', xipList: [], lsn: 0n, databaseLsn: 0n + 1n })
    const log = await registry.getOrCreate(definition)
    expect(log.handle).toMatch(/^\d+-\d+$/)
    registry.delete(log)
    expect(log.state).toBe('deleted')
    expect(registry.byHandle(log.handle)).toBeUndefined()
    expect(scripted.listeners.size).toBe(0)
    const next = await registry.getOrCreate(definition)
    expect(next.handle).not.toBe(log.handle)
  })

  it.each([
    { field: 'truncated', what: 'TRUNCATE' },
    { field: 'schemaChanged', what: 'schema change' },
  ] as const)('a $what of the table deletes the shape; one of another table does not', async ({ field }) => {
    const scripted = scriptedSource()
    const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
    const creation = registry.getOrCreate(definition)
    await scripted.started
    scripted.finish({ rows: [{ id: '1', title: 'x' }], xmin: '5', xmax: '5', xipList: [], lsn: 4n, databaseLsn: 4n + 1n })
    const log = await creation
    const events: string[] = []
    log.subscribe((event) => events.push(event))
    scripted.truncate(6, 10, 'other', field)
    expect(log.state).not.toBe('deleted')
    scripted.commit(7, 11, { id: '2', title: 'y' })
    scripted.truncate(8, 12, 'items', field)
    expect(log.state).toBe('deleted')
    expect(events).toEqual(['append', 'deleted'])
    expect(registry.byHandle(log.handle)).toBeUndefined()
    expect(scripted.listeners.size).toBe(0)
    const next = registry.getOrCreate(definition)
    scripted.finish({ rows: [], xmin: '9', xmax: '9', xipList: [], lsn: 12n, databaseLsn: 12n + 1n })
    expect((await next).handle).not.toBe(log.handle)
  })

  it('a TRUNCATE committed during the snapshot and not in it deletes the new shape once registered; one in it does not', async () => {
    for (const { xid, deleted } of [
      { xid: 7, deleted: true },
      { xid: 4, deleted: false },
    ]) {
      const scripted = scriptedSource()
      const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
      const creation = registry.getOrCreate(definition)
      await scripted.started
      scripted.truncate(xid, 10)
      scripted.commit(9, 11, { id: '9', title: 'after the truncate' })
      scripted.finish({ rows: [{ id: '1', title: 'x' }], xmin: '5', xmax: '5', xipList: [], lsn: 4n, databaseLsn: 4n + 1n })
      const log = await creation
      expect(log.state === 'deleted').toBe(deleted)
      expect(registry.byHandle(log.handle) === undefined).toBe(deleted)
      expect(scripted.listeners.size).toBe(deleted ? 0 : 1)
    }
  })

  it('a schema change delivered during the snapshot deletes the new shape, even when the snapshot contains it', async () => {
    for (const xid of [4, 7]) {
      const scripted = scriptedSource()
      const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
      const creation = registry.getOrCreate(definition)
      await scripted.started
      // The table was described before this ALTER committed: the shape's description may be the old one.
      scripted.truncate(xid, 10, 'items', 'schemaChanged')
      scripted.finish({ rows: [{ id: '1', title: 'x' }], xmin: '5', xmax: '5', xipList: [], lsn: 4n, databaseLsn: 4n + 1n })
      const log = await creation
      expect(log.state, `xid ${xid}`).toBe('deleted')
      expect(registry.byHandle(log.handle)).toBeUndefined()
      expect(registry.current(definition.key)).toBeUndefined()
      expect(scripted.listeners.size).toBe(0)
    }
  })

  it('a log=changes_only shape reads no rows (limit 0); a full one reads them all', async () => {
    for (const log of ['changes_only', 'full'] as const) {
      const scripted = scriptedSource()
      const requests: SnapshotRequest[] = []
      const snapshot = scripted.source.snapshot
      scripted.source.snapshot = (request) => {
        requests.push(request)
        return snapshot(request)
      }
      const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
      const creation = registry.getOrCreate({ ...definition, log, key: `items-${log}` })
      await scripted.started
      scripted.finish({ rows: [], xmin: '5', xmax: '5', xipList: [], lsn: 4n, databaseLsn: 5n })
      await creation
      expect(requests.map((request) => request.limit)).toEqual([log === 'changes_only' ? 0 : undefined])
    }
  })

  it('remembers request keys per live shape, at most 16, and forgets them with the shape', async () => {
    const scripted = scriptedSource()
    scripted.source.snapshot = async () => ({ rows: [], xmin: '1', xmax: '1', xipList: [], lsn: 0n, databaseLsn: 0n + 1n })
    const registry = new ShapeRegistry({ source: scripted.source, clock: realClock, chunkBytes: 1 << 20 })
    const log = await registry.getOrCreate(definition)
    expect(registry.resolvedRequest(log.handle, 'spelling 0')).toBeUndefined()
    const spellings = Array.from({ length: 17 }, (_, index) => `spelling ${index}`)
    for (const spelling of spellings) registry.rememberRequest(log, spelling)
    expect(spellings.map((spelling) => registry.resolvedRequest(log.handle, spelling) === log)).toEqual([
      ...Array.from({ length: 16 }, () => true),
      false,
    ])
    expect(registry.resolvedRequest('other-handle', 'spelling 0')).toBeUndefined()
    registry.delete(log)
    expect(registry.resolvedRequest(log.handle, 'spelling 0')).toBeUndefined()
    registry.rememberRequest(log, 'spelling 0')
    expect(registry.resolvedRequest(log.handle, 'spelling 0')).toBeUndefined()
  })

  it('visibility follows Postgres snapshot rules', () => {
    const snapshot = { xmin: '10', xmax: '20', xipList: ['12', '15'] }
    expect([9, 10, 12, 13, 15, 19, 20, 21].map((xid) => visibleIn(snapshot, String(xid)))).toEqual([
      true, true, false, true, false, true, false, false,
    ])
  })
})

describe('ShapeRegistry.acquire', () => {
  /** A source whose snapshots all resolve at once, in the same job, when the test says so. */
  function simultaneousSource() {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const source: ChangeSource = {
      kind: 'memory',
      describeTable: async () => table,
      snapshot: async () => {
        await gate
        return { rows: [{ id: '1', title: 'one' }], xmin: '1', xmax: '1', xipList: [], lsn: 1n, databaseLsn: 2n }
      },
      subscribe: () => () => {},
      currentLsn: () => 0n,
      close: async () => {},
    }
    return { source, release }
  }
  const other = (key: string): ShapeDefinition => ({ ...definition, key })

  it('hands each request a shape it already holds: creations ending together evict none of them before their requests hold them', async () => {
    const simultaneous = simultaneousSource()
    const registry = new ShapeRegistry({ source: simultaneous.source, clock: realClock, chunkBytes: 1 << 20, maxShapes: 1 })
    const signal = new AbortController().signal
    const acquisitions = ['a', 'b', 'c'].map((key) => registry.acquire(other(key), signal))
    simultaneous.release()
    const held = await Promise.all(acquisitions)
    // Every shape is live when its request gets it, although the registry is over its bound of one.
    for (const { log } of held) expect(registry.byHandle(log.handle)).toBe(log)
    expect(registry.stats()).toMatchObject({ shapes: 3, evicted: 0 })
    for (const { release } of held) release()
    expect(registry.stats()).toMatchObject({ shapes: 1, evicted: 2 })
    // The one kept is the most recently used.
    expect(registry.byHandle(held[2]!.log.handle)).toBe(held[2]!.log)
  })

  it('holds an existing shape at once, shares a creation between its waiters, and lets go of a new shape nobody waits for any more', async () => {
    const simultaneous = simultaneousSource()
    const registry = new ShapeRegistry({ source: simultaneous.source, clock: realClock, chunkBytes: 1 << 20, maxShapes: 1 })
    const left = new AbortController()
    const first = registry.acquire(other('a'), new AbortController().signal)
    const second = registry.acquire(other('a'), left.signal)
    simultaneous.release()
    const [one, two] = await Promise.all([first, second])
    expect(one.log).toBe(two.log)
    one.release()
    two.release()
    two.release()
    const again = await registry.acquire(other('a'), left.signal)
    expect(again.log).toBe(one.log)
    const b = await registry.acquire(other('b'), new AbortController().signal)
    // `a` is still held by `again`: over the bound, nothing evicted.
    expect(registry.stats()).toMatchObject({ shapes: 2, evicted: 0 })
    again.release()
    expect(registry.byHandle(one.log.handle)).toBeUndefined()
    b.release()
    expect(registry.stats()).toMatchObject({ shapes: 1, evicted: 1 })
  })
})

describe('ShapeRegistry: a creation every waiter left', () => {
  /** A source whose first snapshot settles only when the test says (as a PostgreSQL cancel takes a round trip). */
  function slowCancelSource(outcome: 'rejects' | 'resolves') {
    let cancelled: () => void = () => {}
    const cancelDone = new Promise<void>((resolve) => (cancelled = resolve))
    let snapshots = 0
    const source: ChangeSource = {
      kind: 'memory',
      describeTable: async () => table,
      snapshot: async (request) => {
        snapshots += 1
        if (snapshots > 1) return { rows: [{ id: '1', title: 'fresh' }], xmin: '1', xmax: '1', xipList: [], lsn: 0n, databaseLsn: 1n }
        // Settles a while after the abort: PostgreSQL's cancel error, or rows read just before the cancel arrived.
        await new Promise<void>((resolve) => request.signal?.addEventListener('abort', () => resolve(), { once: true }))
        await cancelDone
        if (outcome === 'rejects') throw new Error('canceling statement due to user request')
        return { rows: [{ id: '1', title: 'stale' }], xmin: '1', xmax: '1', xipList: [], lsn: 0n, databaseLsn: 1n }
      },
      subscribe: () => () => {},
      currentLsn: () => 0n,
      close: async () => {},
    }
    return { source, cancelled, snapshots: () => snapshots }
  }

  it.each(['rejects', 'resolves'] as const)('starts a new creation for a request arriving while the abandoned one is still being cancelled (its snapshot %s)', async (outcome) => {
    // A client that reloads a page aborts its first request and at once sends the same one again.
    const slow = slowCancelSource(outcome)
    const registry = new ShapeRegistry({ source: slow.source, clock: realClock, chunkBytes: 1 << 20 })
    const leaving = new AbortController()
    const first = registry.acquire(definition, leaving.signal)
    first.catch(() => undefined)
    await Promise.resolve()
    leaving.abort(new Error('client left'))
    const again = registry.acquire(definition, new AbortController().signal)
    slow.cancelled()
    await expect(first).rejects.toThrow('client left')
    const held = await again
    expect(slow.snapshots()).toBe(2)
    // The abandoned creation registered nothing: one live shape for the definition, the new one.
    expect(registry.stats().shapes).toBe(1)
    expect(registry.current(definition.key)).toBe(held.log)
    expect(held.log.firstChunk()).toEqual([expect.stringContaining('fresh'), expect.stringContaining('snapshot-end')])
    held.release()
  })
})
