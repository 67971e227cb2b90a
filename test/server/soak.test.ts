/**
 * Soak: 50 live shapes (25 long-polling, 25 on SSE) of one table on the dev server (memory source, `serveNode`)
 * behind the fault proxy, a writer at ~100 transactions/s (inserts, updates, deletes, primary-key changes, several
 * rows at once), the proxy cutting a live response every 250 ms and injecting random drops, 5xx, truncations and
 * stalls on top. Proves:
 * - no change lost: once the writer stops, every shape equals `SELECT` of its definition;
 * - no unhandled rejection or exception, and every shape `live` at the end;
 * - no change applied twice: per row, the write sequence number `n` a shape shows never goes down, and a row that left
 *   never comes back with a number it had already shown (every write stamps a new, larger `n`);
 * - no growth in sockets (the proxy's open client connections) or timers (client and server clocks count theirs)
 *   between the first and the second half of the run; none left after dispose / close;
 * - memory: once the clients are disposed and the handler closed, the heap is back near where it started (the
 *   server's shape logs, which grow with every write by design, are the only growth during the run).
 * Bounded form in the normal suite (~10 s of writing); `LIVE_SHAPES_SOAK=1` runs 60 s (`LIVE_SHAPES_SOAK_SECONDS`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import { createMemorySource, type MemorySource, type MemoryTransaction } from '../../src/server/sources/memory'
import { exposeGc, settledHeap } from '../react/support/heapGauge'
import { countingClock, type CountingClock } from './support/countingClock'
import { seededRandom, startFaultProxy, type FaultSpec } from './support/faultProxy'
import { fingerprint, type FaultRow } from './support/faultScenario'
import { converged, soakShapeOptions, soakWriteMs, watchShape, type WatchedShape } from './support/soakShapes'

const WRITE_MS = soakWriteMs(10_000)
const TX_PER_SECOND = 100
const CONVERGE_MS = 30_000
const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'g9']

/** 25 definitions per transport: the SQL `where` and the same predicate in JS. */
const DEFINITIONS: { where: string | undefined; test: (row: FaultRow) => boolean }[] = [
  { where: undefined, test: () => true },
  ...GROUPS.map((group) => ({ where: `grp = '${group}'`, test: (row: FaultRow) => row.grp === group })),
  ...Array.from({ length: 10 }, (_, k) => ({ where: `v >= ${k * 10}`, test: (row: FaultRow) => row.v >= k * 10 })),
  { where: 'v < 25', test: (row) => row.v < 25 },
  { where: 'v < 50', test: (row) => row.v < 50 },
  { where: "grp = 'g0' OR grp = 'g1'", test: (row) => row.grp === 'g0' || row.grp === 'g1' },
  { where: "grp = 'g2' AND v < 50", test: (row) => row.grp === 'g2' && row.v < 50 },
]

const CHAOS: FaultSpec[] = [
  { kind: 'drop', target: 'any' },
  { kind: 'server-error', target: 'any' },
  { kind: 'truncate', target: 'sse' },
  { kind: 'cut', target: 'catch-up' },
  { kind: 'stall', target: 'any', ms: 200 },
  { kind: 'malformed', target: 'live' },
]

interface Watched extends WatchedShape {
  release: () => void
  fellBackAt?: number
}

describe('soak: 50 live shapes, a writer at 100 tx/s, periodic cuts', () => {
  let source: MemorySource
  const serverClock = countingClock()
  const clientClocks = [countingClock(), countingClock()]
  let gc: () => void

  beforeAll(() => {
    gc = exposeGc()
  })
  afterAll(() => undefined)

  it(`loses and duplicates nothing, and holds sockets, timers and memory flat (${WRITE_MS / 1000} s of writes)`, async () => {
    source = createMemorySource({
      tables: [
        {
          name: 'soak',
          columns: [
            { name: 'id', type: 'int4', primaryKey: true },
            { name: 'grp', type: 'text', notNull: true },
            { name: 'v', type: 'int4', notNull: true },
            { name: 'n', type: 'int4', notNull: true },
          ],
        },
      ],
    })
    const random = seededRandom(20261207)
    const model = new Map<number, FaultRow>()
    let nextId = 1
    let seq = 0
    source.transaction((tx) => {
      for (let i = 0; i < 100; i++) insert(tx, { id: nextId++, grp: GROUPS[i % 10] as string, v: (i * 37) % 100, n: 0 })
    })
    function insert(tx: MemoryTransaction, row: FaultRow): void {
      model.set(row.id, row)
      tx.insert('soak', { ...row })
    }

    const handler = createShapeHandler({ source, allowDelete: true, clock: serverClock, longPollTimeoutMs: 2000, sseTimeoutMs: 5000, keepAliveMs: 1000 })
    const server = await serveNode(handler, { port: 0 })
    const proxy = await startFaultProxy({ upstream: server.url, random: seededRandom(7), maxStallMs: 200 })
    const unhandled: string[] = []
    const onUnhandled = (error: unknown): void => void unhandled.push(String(error))
    process.on('unhandledRejection', onUnhandled)
    process.on('uncaughtException', onUnhandled)
    await warmUp(`${proxy.url}/v1/shape`, () => source.transaction((tx) => insert(tx, { id: nextId++, grp: 'g0', v: 1, n: 0 })))
    const baseline = await settledHeap(gc)
    const clients = [false, true].map(
      (liveSse, index) =>
        new ShapeClient({ clock: clientClocks[index] as CountingClock, random: seededRandom(index + 1), visibility: null, liveSse, gracePeriodMs: 0 }),
    )
    const watched: Watched[] = []
    const fallbackReasons = new Set<string>()
    clients.forEach((client, clientIndex) => {
      DEFINITIONS.forEach((definition, index) => {
        const shape = client.shape(soakShapeOptions(proxy.url, 'soak', definition.where))
        const entry: Watched = { ...watchShape(shape, index, clientIndex === 1), release: shape.retain() }
        const stopRows = entry.stop
        const stopStatus = shape.subscribeStatus(() => {
          const status = shape.getStatus()
          if (status.transport === 'long-poll' && status.fallbackReason !== undefined && entry.fellBackAt === undefined) {
            entry.fellBackAt = Date.now()
            fallbackReasons.add(status.fallbackReason)
          }
        })
        entry.stop = () => {
          stopStatus()
          stopRows()
        }
        watched.push(entry)
      })
    })
    expect(watched).toHaveLength(50)
    await Promise.all(watched.map((entry) => entry.shape.whenUpToDate()))

    // The writer: ~100 tx/s by the wall clock (a late timer catches up, at most 25 transactions at once).
    const samples: { at: number; sockets: number; clientTimers: number; serverTimers: number; sseStreams: number }[] = []
    const started = Date.now()
    let written = 0
    let cuts = 0
    const writeOne = (): void => {
      seq += 1
      const stamp = seq
      source.transaction((tx) => {
        const ops = 1 + Math.floor(random() * 3)
        for (let i = 0; i < ops; i++) {
          const ids = [...model.keys()]
          const roll = random()
          const pickId = ids[Math.floor(random() * ids.length)] as number
          if (ids.length < 70 || roll < 0.2) insert(tx, { id: nextId++, grp: GROUPS[Math.floor(random() * 10)] as string, v: Math.floor(random() * 100), n: stamp })
          else if (ids.length > 130 || roll < 0.4) {
            model.delete(pickId)
            tx.delete('soak', { id: pickId })
          } else if (roll < 0.6) {
            const old = model.get(pickId) as FaultRow
            model.delete(pickId)
            const row = { ...old, id: nextId++, n: stamp }
            model.set(row.id, row)
            tx.update('soak', { id: row.id, n: stamp }, { id: pickId })
          } else {
            const row = { id: pickId, grp: GROUPS[Math.floor(random() * 10)] as string, v: Math.floor(random() * 100), n: stamp }
            model.set(pickId, row)
            tx.update('soak', { grp: row.grp, v: row.v, n: stamp }, { id: pickId })
          }
        }
      })
      written += 1
    }
    proxy.chaos = { rate: 0.03, faults: CHAOS }
    let midHeap: number | undefined
    await new Promise<void>((resolve) => {
      let lastSample = 0
      let lastCut = 0
      const tick = (): void => {
        const elapsed = Date.now() - started
        const due = Math.min(Math.floor((elapsed * TX_PER_SECOND) / 1000), written + 25)
        while (written < due) writeOne()
        if (elapsed - lastCut >= 250) {
          lastCut = elapsed
          proxy.arm({ kind: 'cut', target: cuts % 2 === 0 ? 'sse' : 'live' })
          cuts += 1
        }
        if (elapsed - lastSample >= 500) {
          lastSample = elapsed
          samples.push({
            at: elapsed,
            sockets: proxy.openSockets,
            clientTimers: clientClocks.reduce((sum, clock) => sum + clock.pending, 0),
            serverTimers: serverClock.pending,
            sseStreams: handler.stats().sseStreams,
          })
        }
        if (elapsed >= WRITE_MS) return resolve()
        setTimeout(tick, 10)
      }
      setTimeout(tick, 10)
    })
    const writingMs = Date.now() - started
    proxy.calm()
    midHeap = (await settledHeap(gc, 2)).dataBytes

    // Converged: every shape equals SELECT of its definition, and is live.
    const convergeStarted = Date.now()
    const rows = source.rows('soak').map((row) => ({ id: Number(row['id']), grp: String(row['grp']), v: Number(row['v']), n: Number(row['n']) }))
    expect(fingerprint(rows)).toBe(fingerprint(model.values()))
    const unconverged = await Promise.all(
      watched.map((entry) => converged(entry, fingerprint(rows.filter(DEFINITIONS[entry.definition]?.test ?? (() => true))), CONVERGE_MS)),
    )
    const convergeMs = Date.now() - convergeStarted
    const half = samples.filter((sample) => sample.at >= writingMs / 2)
    const firstHalf = samples.filter((sample) => sample.at < writingMs / 2 && sample.at >= 1000)
    const max = (list: typeof samples, key: 'sockets' | 'clientTimers' | 'serverTimers' | 'sseStreams'): number => Math.max(0, ...list.map((s) => s[key]))
    const serverStats = handler.stats()
    const falledBack = watched.filter((entry) => entry.sse && entry.shape.getStatus().transport === 'long-poll').length
    const fallbackSeconds = watched.flatMap((entry) => (entry.fellBackAt === undefined ? [] : [(entry.fellBackAt - started) / 1000]))

    for (const entry of watched) {
      entry.stop()
      entry.release()
    }
    for (const client of clients) client.dispose()
    const clientTimersAfterDispose = clientClocks.reduce((sum, clock) => sum + clock.pending, 0)
    await handler.close()
    const serverTimersAfterClose = serverClock.pending
    await proxy.close()
    await server.close()
    await source.close()
    const duplicates = watched.flatMap((entry) => entry.violations)
    const shapeCount = watched.length
    watched.length = 0
    const endHeap = await settledHeap(gc)

    const report = {
      seconds: Math.round(writingMs / 100) / 10,
      transactions: written,
      txPerSecond: Math.round((written * 1000) / writingMs),
      faults: Object.fromEntries(Object.entries(proxy.counts).filter(([kind]) => kind !== 'pass')),
      requests: Object.values(proxy.counts).reduce((a, b) => a + b, 0),
      sseShapesFallenBack: falledBack,
      sseFallbackSecondsMedian: median(fallbackSeconds) ?? null,
      fallbackReasons: [...fallbackReasons],
      convergeMs,
      socketsMax: { firstHalf: max(firstHalf, 'sockets'), secondHalf: max(half, 'sockets') },
      clientTimersMax: { firstHalf: max(firstHalf, 'clientTimers'), secondHalf: max(half, 'clientTimers') },
      serverTimersMax: { firstHalf: max(firstHalf, 'serverTimers'), secondHalf: max(half, 'serverTimers') },
      sseStreamsMax: { firstHalf: max(firstHalf, 'sseStreams'), secondHalf: max(half, 'sseStreams') },
      serverShapes: serverStats.shapes,
      serverShapeLogMiB: mib(serverStats.shapeBytes * 2),
      heapMiB: { start: mib(baseline.dataBytes), afterWrites: mib(midHeap), afterClose: mib(endHeap.dataBytes) },
    }
    console.log(`soak: ${JSON.stringify(report)}`)

    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUnhandled)
    expect(unhandled).toEqual([])
    const violations = unconverged.filter((v): v is string => v !== undefined)
    expect(violations).toEqual([])
    expect(duplicates).toEqual([])
    // Bounded by the shapes, not by the run: at most one connection per shape's request plus the client's idle pool,
    // and a few timers per shape (live deadline, backoff; server: held request, keep-alive).
    expect(report.socketsMax.secondHalf).toBeLessThanOrEqual(2 * shapeCount + 10)
    expect(report.clientTimersMax.secondHalf).toBeLessThanOrEqual(3 * shapeCount)
    expect(report.serverTimersMax.secondHalf).toBeLessThanOrEqual(3 * shapeCount)
    expect(clientTimersAfterDispose).toBe(0)
    expect(serverTimersAfterClose).toBe(0)
    expect(endHeap.dataBytes - baseline.dataBytes).toBeLessThan(8 * 1024 * 1024)
  }, WRITE_MS + CONVERGE_MS + 60_000)
})

/**
 * Loads what the first shapes load (the SSE runner, the platform `fetch` and its pool, the handler's code paths) before
 * the baseline heap is read: one shape per transport syncs, sees one live change, and is disposed.
 */
async function warmUp(url: string, write: () => void): Promise<void> {
  const clients = [false, true].map((liveSse) => new ShapeClient({ visibility: null, liveSse, gracePeriodMs: 0 }))
  const shapes = clients.map((client) => client.shape<FaultRow>({ url, params: { table: 'soak' } }))
  const releases = shapes.map((shape) => shape.retain())
  await Promise.all(shapes.map((shape) => shape.whenUpToDate()))
  const sizes = shapes.map((shape) => shape.getSnapshot().data.length)
  write()
  await Promise.all(
    shapes.map(
      (shape, index) =>
        new Promise<void>((resolve) => {
          const stop = shape.subscribe(() => {
            if (shape.getSnapshot().data.length === (sizes[index] ?? 0) + 1) {
              stop()
              resolve()
            }
          })
        }),
    ),
  )
  for (const release of releases) release()
  for (const client of clients) client.dispose()
}

function median(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted[Math.floor(sorted.length / 2)]
  return middle === undefined ? undefined : Math.round(middle * 10) / 10
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10
}
