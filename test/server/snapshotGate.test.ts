/**
 * The snapshot gate (snapshotGate.ts) and what it buys the handler: aborted requests free their slot at once,
 * a full queue is a 503 with `retry-after`, and another client's new shape is answered while a stuck one hangs.
 * Every wait here is on an event (a snapshot starting, a promise settling), never on elapsed time.
 */
import { describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { SnapshotGate, SnapshotGateFullError } from '../../src/server/snapshotGate'
import { createMemorySource } from '../../src/server/sources/memory'
import type { SnapshotRequest } from '../../src/server/sources/source'
import { wrapSource } from './support/wrapSource'

/** Yields to the event loop (no timer) until `predicate` holds: requests reach the gate after a few async hops. */
async function until(predicate: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !predicate(); turn++) await new Promise<void>((resolve) => setImmediate(resolve))
  expect(predicate()).toBe(true)
}

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

describe('SnapshotGate', () => {
  it('runs at most maxConcurrent tasks, queues the next ones in order, and refuses past maxQueued', async () => {
    const gate = new SnapshotGate({ maxConcurrent: 2, maxQueued: 1 })
    const releases = [deferred(), deferred(), deferred()]
    const order: number[] = []
    const tasks = releases.map((release, index) =>
      gate.run(undefined, async () => {
        order.push(index)
        await release.promise
        return index
      }),
    )
    await Promise.resolve()
    expect(order).toEqual([0, 1])
    expect([gate.running, gate.queued]).toEqual([2, 1])
    await expect(gate.run(undefined, async () => 'late')).rejects.toBeInstanceOf(SnapshotGateFullError)
    releases[0]?.resolve()
    expect(await tasks[0]).toBe(0)
    await Promise.resolve()
    expect(order).toEqual([0, 1, 2])
    expect([gate.running, gate.queued]).toEqual([2, 0])
    releases[1]?.resolve()
    releases[2]?.resolve()
    expect(await Promise.all(tasks)).toEqual([0, 1, 2])
    expect([gate.running, gate.queued]).toEqual([0, 0])
  })

  it('a queued task whose signal aborts leaves the queue without running; a finished task hands its slot on', async () => {
    const gate = new SnapshotGate({ maxConcurrent: 1, maxQueued: 2 })
    const first = deferred()
    const running = gate.run(undefined, () => first.promise)
    const controller = new AbortController()
    let ran = false
    const aborted = gate.run(controller.signal, async () => {
      ran = true
    })
    const third = gate.run(undefined, async () => 'third')
    expect(gate.queued).toBe(2)
    controller.abort(new Error('client left'))
    await expect(aborted).rejects.toThrow('client left')
    expect(gate.queued).toBe(1)
    // Nobody can slip in between the first task ending and the queued one starting.
    first.resolve()
    await running
    const newcomer = gate.run(undefined, async () => 'newcomer')
    expect(gate.queued).toBe(1)
    expect(await third).toBe('third')
    expect(await newcomer).toBe('newcomer')
    expect(ran).toBe(false)
    expect([gate.running, gate.queued]).toEqual([0, 0])
  })
})

/** A memory source whose snapshots of `stuck` never finish until their signal aborts. */
function stuckSource() {
  const memory = createMemorySource({
    tables: ['stuck', 'stuck1', 'stuck2', 'other'].map((name) => ({ name, columns: [{ name: 'id', type: 'int4', primaryKey: true }] })),
  })
  memory.insert('other', { id: 1 })
  const started: SnapshotRequest[] = []
  const aborted: SnapshotRequest[] = []
  let onStart: (() => void) | undefined
  const source = wrapSource(memory, {
    snapshot: (request) => {
      started.push(request)
      onStart?.()
      if (!request.table.name.startsWith('stuck')) return memory.snapshot(request)
      return new Promise((_, reject) => {
        request.signal?.addEventListener('abort', () => {
          aborted.push(request)
          reject(request.signal?.reason)
        })
      })
    },
  })
  const nextStart = () => new Promise<void>((resolve) => (onStart = resolve))
  return { source, started, aborted, nextStart }
}

describe('snapshots under the gate', () => {
  it('aborted requests release their slots: another client gets its new shape, and snapshots carry the timeout', async () => {
    const { source, started, aborted } = stuckSource()
    const handler = createShapeHandler({ source, maxConcurrentSnapshots: 2, maxQueuedSnapshots: 4, snapshotTimeoutMs: 1234 })
    const controllers = [0, 1, 2].map(() => new AbortController())
    const stuck = controllers.map((controller, index) => {
      const url = `http://t/v1/shape?table=${['stuck', 'stuck1', 'stuck2'][index]}&offset=-1`
      return handler(new Request(url, { signal: controller.signal }))
    })
    await until(() => handler.stats().snapshotsQueued === 1)
    expect(handler.stats()).toMatchObject({ snapshotsRunning: 2, snapshotsQueued: 1 })
    expect(started.every((request) => request.timeoutMs === 1234 && request.signal !== undefined)).toBe(true)

    const other = handler(new Request('http://t/v1/shape?table=other&offset=-1'))
    await until(() => handler.stats().snapshotsQueued === 2)
    for (const controller of controllers) controller.abort(new DOMException('gone', 'AbortError'))
    const response = await other
    expect(response.status).toBe(200)
    // One row and the snapshot-end.
    expect(((await response.json()) as unknown[]).length).toBe(2)
    // The two running snapshots were aborted; the queued one never started.
    expect(aborted).toHaveLength(2)
    expect(started.filter((request) => request.table.name.startsWith('stuck'))).toHaveLength(2)
    await Promise.allSettled(stuck)
    expect(handler.stats()).toMatchObject({ snapshotsRunning: 0, snapshotsQueued: 0, shapes: 1 })
    await handler.close()
  })

  it('a full queue answers 503 with retry-after at once', async () => {
    const { source, nextStart } = stuckSource()
    const handler = createShapeHandler({ source, maxConcurrentSnapshots: 1, maxQueuedSnapshots: 1 })
    const controller = new AbortController()
    const first = nextStart()
    const held = handler(new Request('http://t/v1/shape?table=stuck&offset=-1', { signal: controller.signal }))
    await first
    const queued = handler(new Request('http://t/v1/shape?table=stuck1&offset=-1', { signal: controller.signal }))
    await until(() => handler.stats().snapshotsQueued === 1)
    const refused = await handler(new Request('http://t/v1/shape?table=other&offset=-1'))
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    controller.abort()
    await Promise.allSettled([held, queued])
    expect((await handler(new Request('http://t/v1/shape?table=other&offset=-1'))).status).toBe(200)
    await handler.close()
  })

  it('a shared creation is aborted only when every request waiting for it has gone', async () => {
    const { source, aborted, nextStart } = stuckSource()
    const handler = createShapeHandler({ source })
    const [a, b] = [new AbortController(), new AbortController()]
    const first = nextStart()
    const requestA = handler(new Request('http://t/v1/shape?table=stuck&offset=-1', { signal: a.signal }))
    await first
    const requestB = handler(new Request('http://t/v1/shape?table=stuck&offset=-1', { signal: b.signal }))
    // B joins A's creation once its table is described: a few hops, no I/O.
    for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve))
    a.abort()
    await requestA.catch(() => undefined)
    expect(aborted).toHaveLength(0)
    b.abort()
    await requestB.catch(() => undefined)
    expect(aborted).toHaveLength(1)
    await handler.close()
  })
})
