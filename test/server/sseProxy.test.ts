/**
 * SSE through a misbehaving proxy, end to end over real sockets: the dev server (`createShapeHandler` + memory source +
 * `serveNode`) behind a loopback proxy (`support/sseProxy.ts`), and `ShapeClient({ liveSse: true })` using the
 * platform `fetch`. Proves the honest fallback of issue 4:
 * - a buffering proxy makes every SSE response short; after 3 the shape long-polls, says so in its status, and keeps
 *   every change exactly once;
 * - with steady writes behind that proxy, catch-ups (which the server ends at once) arrive whole between silent
 *   connections at the head; the silent ones still add up to the fallback;
 * - a connection cut in the middle of a transaction's events never publishes half of it, and the next request
 *   resumes from the offset of the cut one;
 * - a 409 while fallen back re-arms SSE.
 * "Exactly once" and "never half" are checked on every published snapshot: each must equal the source's state after
 * some committed transaction, in commit order (a lost change, a re-applied one or a partial transaction would show a
 * state the source never had, or go backwards).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Shape } from '../../src/core/shape'
import { ShapeClient } from '../../src/core/shapeClient'
import type { ShapeStatus } from '../../src/core/shapeStatus'
import { createShapeHandler, type ShapeHandler } from '../../src/server/handler'
import { serveNode, type NodeServer } from '../../src/server/nodeAdapter'
import { createMemorySource, type MemorySource } from '../../src/server/sources/memory'
import { startSseProxy, type SseProxy, type SseProxyMode } from './support/sseProxy'

/** Rows come in pairs (`<n>a`, `<n>b`) that every transaction writes together with the same `v`. */
interface PairRow {
  id: string
  pair: number
  v: number
}

const PAIRS = {
  name: 'pairs',
  columns: [
    { name: 'id', type: 'text', primaryKey: true },
    { name: 'pair', type: 'int4' },
    { name: 'v', type: 'int4' },
  ],
  rows: [
    { id: '1a', pair: 1, v: 0 },
    { id: '1b', pair: 1, v: 0 },
  ],
} as const

const WAIT_MS = 8000

/** Rejects with `label` when `promise` has not settled within `ms` (the bound of every event-driven wait). */
function within<T>(promise: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function untilStatus(shape: Shape<PairRow>, done: (status: ShapeStatus) => boolean, label: string): Promise<ShapeStatus> {
  return within(
    new Promise<ShapeStatus>((resolve) => {
      if (done(shape.getStatus())) return resolve(shape.getStatus())
      const stop = shape.subscribeStatus(() => {
        const status = shape.getStatus()
        if (!done(status)) return
        stop()
        resolve(status)
      })
    }),
    label,
  )
}

function untilSnapshot(shape: Shape<PairRow>, done: () => boolean, label: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (done()) return resolve()
      const stop = shape.subscribe(() => {
        if (!done()) return
        stop()
        resolve()
      })
    }),
    label,
  )
}

const stateOfSource = (source: MemorySource): string =>
  source
    .rows('pairs')
    .map((row) => `${row.id}=${row.v}`)
    .sort()
    .join(',')

const stateOfRows = (rows: readonly PairRow[]): string =>
  rows
    .map((row) => `${row.id}=${row.v}`)
    .sort()
    .join(',')

interface Rig {
  source: MemorySource
  proxy: SseProxy
  shape: Shape<PairRow>
  /** Source state after each commit, in order; index 0 is the initial state. */
  committed: string[]
  /** Every published snapshot's state, in order. */
  published: string[]
  /** Runs one transaction and records the state it committed. */
  commit(write: (tx: Parameters<Parameters<MemorySource['transaction']>[0]>[0]) => void): void
  /** Resolves once the published rows equal the source's current rows. */
  caughtUp(label: string): Promise<void>
  statuses: ShapeStatus[]
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function rig(options: { sseTimeoutMs: number; mode: SseProxyMode; cutAfterEvents?: number; liveRequestTimeoutMs?: number }): Promise<Rig> {
  const source = createMemorySource({ tables: [PAIRS] })
  const handler: ShapeHandler = createShapeHandler({ source, sseTimeoutMs: options.sseTimeoutMs, longPollTimeoutMs: 5000, allowDelete: true })
  const server: NodeServer = await serveNode(handler, { port: 0 })
  const proxy = await startSseProxy(server.url, { mode: options.mode, cutAfterEvents: options.cutAfterEvents ?? 1 })
  cleanups.push(async () => {
    await handler.close()
    await source.close()
  })
  cleanups.push(() => server.close())
  cleanups.push(() => proxy.close())
  const client = new ShapeClient({ liveSse: true, visibility: null })
  cleanups.push(() => client.dispose())
  const shape = client.shape<PairRow>({
    url: `${proxy.url}/v1/shape`,
    params: { table: 'pairs' },
    ...(options.liveRequestTimeoutMs === undefined ? {} : { liveRequestTimeoutMs: options.liveRequestTimeoutMs }),
  })

  const committed = [stateOfSource(source)]
  const published: string[] = []
  const statuses: ShapeStatus[] = [shape.getStatus()]
  cleanups.push(shape.subscribe(() => published.push(stateOfRows(shape.getSnapshot().data))))
  cleanups.push(shape.subscribeStatus(() => statuses.push(shape.getStatus())))
  cleanups.push(shape.retain())
  await within(shape.whenUpToDate(), 'the initial snapshot')
  return {
    source,
    proxy,
    shape,
    committed,
    published,
    statuses,
    commit(write) {
      source.transaction(write)
      committed.push(stateOfSource(source))
    },
    caughtUp: (label) => untilSnapshot(shape, () => stateOfRows(shape.getSnapshot().data) === stateOfSource(source), label),
  }
}

/** Every published state is a committed one, and they never go back in commit order (see the file comment). */
function expectOnlyCommittedStatesInOrder(published: readonly string[], committed: readonly string[]): void {
  let at = 0
  for (const [index, state] of published.entries()) {
    const found = committed.indexOf(state, at)
    expect(found, `published snapshot #${index} (${state}) is not a committed state at or after #${at}`).toBeGreaterThanOrEqual(0)
    at = found
  }
}

const isLiveSse = (record: { url: URL }): boolean =>
  record.url.searchParams.get('live') === 'true' && record.url.searchParams.get('live_sse') === 'true'

describe('SSE through a proxy, with the real dev server and platform fetch', () => {
  it('falls back to long-polling behind a buffering proxy and still applies every change exactly once', async () => {
    // 300 ms streams: each buffered response ends quickly, so the client sees short connections.
    const { source, proxy, shape, committed, published, statuses, commit, caughtUp } = await rig({
      sseTimeoutMs: 300,
      mode: 'buffer',
    })
    // A change written while SSE is still tried arrives too, late (at the end of a buffered response).
    commit((tx) => {
      tx.update('pairs', { v: 1 }, { id: '1a' })
      tx.update('pairs', { v: 1 }, { id: '1b' })
    })
    const fallen = await untilStatus(shape, (status) => status.transport === 'long-poll', 'the fallback to long-polling')
    expect(fallen.fallbackReason).toMatch(/3 consecutive SSE responses closed within 1 s/)
    const sseResponses = proxy.records.filter(isLiveSse)
    expect(sseResponses.length).toBeGreaterThanOrEqual(3)
    expect(sseResponses.every((record) => record.mode === 'buffer' && record.contentType?.startsWith('text/event-stream'))).toBe(true)
    // Before the fallback the status named SSE; it never claimed long-poll without a reason.
    expect(statuses.some((status) => status.transport === 'sse')).toBe(true)
    expect(statuses.filter((status) => status.transport === 'long-poll').every((status) => status.fallbackReason !== undefined)).toBe(true)
    await caughtUp('the change written while SSE was tried')
    const sseCount = proxy.records.filter(isLiveSse).length

    // Inserts, updates and deletes in multi-row transactions, over long-polling now.
    for (let round = 2; round <= 4; round++) {
      commit((tx) => {
        tx.insert('pairs', { id: `${round}a`, pair: round, v: 0 })
        tx.insert('pairs', { id: `${round}b`, pair: round, v: 0 })
        tx.update('pairs', { v: round }, { id: '1a' })
        tx.update('pairs', { v: round }, { id: '1b' })
      })
      await caughtUp(`round ${round} inserts`)
      commit((tx) => {
        tx.update('pairs', { v: 10 * round }, { id: `${round}a` })
        tx.update('pairs', { v: 10 * round }, { id: `${round}b` })
        if (round > 2) {
          tx.delete('pairs', { id: `${round - 1}a` })
          tx.delete('pairs', { id: `${round - 1}b` })
        }
      })
    }
    await caughtUp('the last round')

    expect(stateOfRows(shape.getSnapshot().data)).toBe(stateOfSource(source))
    expectOnlyCommittedStatesInOrder(published, committed)
    expect(published.at(-1)).toBe(committed.at(-1))
    // No SSE request after the fallback: the changes above came by long-poll (JSON) responses.
    expect(proxy.records.filter(isLiveSse)).toHaveLength(sseCount)
    const lastLive = proxy.records.filter((record) => record.url.searchParams.get('live') === 'true').at(-1)
    expect(lastLive?.contentType).toMatch(/^application\/json/)
    expect(shape.getStatus()).toMatchObject({ transport: 'long-poll', phase: 'live' })
  })

  it('falls back behind a buffering proxy under steady writes, where catch-ups arrive whole between silent connections', async () => {
    // Streams the server keeps open (5 s) stay silent through the proxy until the client's heartbeat bound (400 ms)
    // cuts them; a write every 150 ms makes each next request start behind the head, which the server ends at once,
    // so the proxy hands it over whole and the client sees changes arrive.
    const { source, proxy, shape, committed, published, commit, caughtUp } = await rig({
      sseTimeoutMs: 5000,
      mode: 'buffer',
      liveRequestTimeoutMs: 400,
    })
    let v = 0
    const writer = setInterval(() => {
      v += 1
      commit((tx) => {
        tx.update('pairs', { v }, { id: '1a' })
        tx.update('pairs', { v }, { id: '1b' })
      })
    }, 150)
    cleanups.push(() => clearInterval(writer))
    const fallen = await untilStatus(shape, (status) => status.transport === 'long-poll', 'the fallback to long-polling')
    clearInterval(writer)
    expect(fallen.fallbackReason).toMatch(/silent past the heartbeat bound/)
    expect(proxy.records.filter(isLiveSse).length).toBeGreaterThanOrEqual(3)
    await caughtUp('the writes after the fallback')
    expect(stateOfRows(shape.getSnapshot().data)).toBe(stateOfSource(source))
    expectOnlyCommittedStatesInOrder(published, committed)
  })

  it('never publishes half a transaction when the stream is cut mid-batch, and resumes from the same offset', async () => {
    // Streams held for the default minute: only the proxy ends them.
    // The first SSE response is the one cut (the mode is one-shot); the snapshot before it is JSON, untouched.
    const { proxy, shape, committed, published, commit, caughtUp } = await rig({
      sseTimeoutMs: 60_000,
      mode: 'cut',
      cutAfterEvents: 2,
    })
    const held = await within(proxy.waitForOpen(isLiveSse), 'the held SSE response')
    expect(held).toMatchObject({ mode: 'cut', status: 200 })
    await untilStatus(shape, (status) => status.phase === 'live' && status.transport === 'sse', 'live over SSE')
    commit((tx) => {
      tx.insert('pairs', { id: '2a', pair: 2, v: 5 })
      tx.insert('pairs', { id: '2b', pair: 2, v: 5 })
      tx.update('pairs', { v: 5 }, { id: '1a' })
      tx.update('pairs', { v: 5 }, { id: '1b' })
    })
    const cut = await within(proxy.waitFor((record) => record.end === 'cut'), 'the cut')
    expect(cut.forwardedEvents).toBe(2)
    await caughtUp('the cut transaction, after the reconnect')

    const afterCut = proxy.records.filter((record) => isLiveSse(record) && proxy.records.indexOf(record) > proxy.records.indexOf(cut))
    expect(afterCut.length).toBeGreaterThan(0)
    expect(afterCut[0]!.url.searchParams.get('offset')).toBe(cut.url.searchParams.get('offset'))
    expect(afterCut[0]!.url.searchParams.get('handle')).toBe(cut.url.searchParams.get('handle'))

    // Still SSE, and later changes (a delete included) arrive once.
    commit((tx) => {
      tx.delete('pairs', { id: '2a' })
      tx.delete('pairs', { id: '2b' })
      tx.update('pairs', { v: 6 }, { id: '1a' })
      tx.update('pairs', { v: 6 }, { id: '1b' })
    })
    await caughtUp('a transaction after the reconnect')
    expectOnlyCommittedStatesInOrder(published, committed)
    expect(published.at(-1)).toBe(committed.at(-1))
    expect(shape.getStatus()).toMatchObject({ transport: 'sse', fallbackReason: undefined })
  })

  it('re-enables SSE after a 409 (DELETE /v1/shape) while fallen back to long-polling', async () => {
    const { source, proxy, shape, statuses, commit, caughtUp } = await rig({ sseTimeoutMs: 300, mode: 'buffer' })
    await untilStatus(shape, (status) => status.transport === 'long-poll' && status.phase === 'live', 'the fallback')
    const fallbackAt = statuses.length
    proxy.mode = 'pass'

    const deleted = await fetch(`${proxy.url}/v1/shape?table=pairs`, { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    const conflict = await within(proxy.waitFor((record) => record.status === 409), 'the 409')
    expect(conflict.url.searchParams.get('live')).toBe('true')
    expect(conflict.url.searchParams.get('live_sse')).toBeNull()

    await untilStatus(
      shape,
      (status) => status.phase === 'live' && status.transport === 'sse' && status.fallbackReason === undefined,
      'live over SSE again',
    )
    const sse = await within(
      proxy.waitFor((record) => isLiveSse(record) && proxy.records.indexOf(record) > proxy.records.indexOf(conflict)),
      'an SSE response after the 409',
    )
    expect(sse.status).toBe(200)
    expect(sse.contentType).toMatch(/^text\/event-stream/)
    expect(statuses.slice(fallbackAt).some((status) => status.transport === 'sse')).toBe(true)

    commit((tx) => {
      tx.insert('pairs', { id: '9a', pair: 9, v: 1 })
      tx.insert('pairs', { id: '9b', pair: 9, v: 1 })
    })
    await caughtUp('a change after the refetch')
    expect(stateOfRows(shape.getSnapshot().data)).toBe(stateOfSource(source))
  })
})
