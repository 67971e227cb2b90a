/**
 * One fault case of the model-based property test: random transactions on one table, random faults armed on the
 * proxy, random subscribe/unsubscribe of several consumers, then every consumer must equal `SELECT` of its shape.
 *
 * What a case proves (each failure is collected with the consumer and the evidence, then thrown together):
 * - Every snapshot a consumer is published equals the table, filtered by its shape, after some committed
 *   transaction, in commit order: a lost change, a change applied twice, a half-applied transaction or a step
 *   backwards would show a state the table never had, or go back in time.
 * - Per row, the write sequence number `n` a consumer sees never goes down, and a row that left never comes back
 *   with a number it had already shown (every write stamps `n` with a new, larger sequence number).
 * - Status is consistent: `live` only with no error and up to date; no stopped `error` (no retry planned) for the
 *   retryable faults injected here; `onError` is never called (retryable errors back off by themselves).
 * - Once the faults stop, every consumer (all subscribed again) reaches exactly the final `SELECT` and `live`.
 * - Every injected `retry-after` was honoured; no unhandled rejection or exception.
 * The model is the table itself: the expected state after each transaction is pushed before it commits, so a
 * client that sees a commit before the writer's `await` returns still finds it in the history.
 */
import type { Shape } from '../../../src/core/shape'
import { ShapeClient } from '../../../src/core/shapeClient'
import type { ShapeOptions } from '../../../src/core/shapeOptions'
import type { ShapeStatus } from '../../../src/core/shapeStatus'
import type { FaultKind, FaultProxy, FaultSpec, FaultTarget } from './faultProxy'
import { seededRandom } from './faultProxy'
import type { FixtureWrites } from './fixture'

/** A row of the fault table: `n` is the sequence number of the transaction that last wrote it. */
export interface FaultRow {
  id: number
  grp: string
  v: number
  n: number
}

export type FaultOp =
  | { op: 'insert'; grp: 'a' | 'b'; v: number }
  | { op: 'update'; pick: number; grp: 'a' | 'b'; v: number }
  | { op: 'delete'; pick: number }
  | { op: 'rekey'; pick: number }

export type FaultStep =
  | { do: 'tx'; ops: FaultOp[] }
  | { do: 'fault'; faults: FaultSpec[] }
  | { do: 'subscribe'; consumer: number }
  | { do: 'unsubscribe'; consumer: number }
  /** Waits (bounded) until the proxy finished `requests` more requests, so faults and writes interleave with traffic. */
  | { do: 'traffic'; requests: number }

/** A whole case: plain JSON, so a failing one is pasted into the regression list as it is printed. */
export interface FaultScenario {
  seed: number
  initialRows: number
  /** Probability that a request no armed fault claims gets a random fault (`CHAOS_FAULTS`) while the steps run. */
  chaosRate: number
  /** Shape index (into `SHAPES`) of each consumer, and whether it starts subscribed. */
  consumers: { shape: number; subscribed: boolean }[]
  steps: FaultStep[]
}

/** The shapes consumers pick from: the SQL `where` and the same predicate in JS. */
export const SHAPES: readonly { where: string | undefined; test: (row: FaultRow) => boolean }[] = [
  { where: undefined, test: () => true },
  { where: "grp = 'a'", test: (row) => row.grp === 'a' },
  { where: 'v >= 50', test: (row) => row.v >= 50 },
]

/** Where a case runs: a fresh table on the source behind the proxy, and how to write to and read it. */
export interface FaultEnvironment {
  proxy: FaultProxy
  liveSse: boolean
  createTable(): Promise<string>
  transaction(table: string, run: (tx: FixtureWrites) => Promise<void>): Promise<void>
  /** `SELECT id, grp, v, n FROM table [WHERE where]`, numbers as numbers. */
  select(table: string, where: string | undefined): Promise<FaultRow[]>
  /** Upper bound of one convergence wait. */
  convergeMs: number
}

/** Options every consumer's shape gets: fast, seeded backoff and a short live deadline so cases run quickly. */
const BACKOFF = { initialDelayMs: 10, maxDelayMs: 250 }
/** Deadlines of the client (shapeStream.ts): a live request or a silent SSE stream, a non-live request's progress. */
const LIVE_REQUEST_TIMEOUT_MS = 3000
const REQUEST_TIMEOUT_MS = 2000

interface Consumer {
  index: number
  shape: number
  subscribed: boolean
  handle: Shape<FaultRow> | undefined
  release: (() => void) | undefined
  stop: (() => void)[]
  /** Index in the history of the state its last snapshot matched. */
  historyIndex: number
  /** Per key: the highest `n` shown; kept after the row leaves, to catch a re-applied old change. */
  seen: Map<number, number>
}

/** Runs `scenario` in `env`; resolves with a summary, throws one error listing every violation. */
export async function runFaultScenario(scenario: FaultScenario, env: FaultEnvironment): Promise<{ requests: number; faults: number; convergedMs: number }> {
  const { proxy } = env
  const violations: string[] = []
  const unhandled = (error: unknown): void => void violations.push(`unhandled: ${String(error)}`)
  process.on('unhandledRejection', unhandled)
  process.on('uncaughtException', unhandled)
  const table = await env.createTable()
  // What the client was sent, so a violation shows the responses before it (the last ones of the case's table).
  const received: string[] = []
  // The queries of the requests whose `retry-after` reached the client: only those can be honoured (a request the
  // client abandoned first, its consumer gone, was answered to nobody).
  const retryAfterReceived = new Set<string>()
  const recordingFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    const url = String(input instanceof Request ? input.url : input)
    if (response.headers.has('retry-after')) retryAfterReceived.add(url.slice(url.indexOf('?')))
    const head = `${response.status} ${url.slice(url.indexOf('?'))} handle=${response.headers.get('electric-handle')} offset=${response.headers.get('electric-offset')}`
    if (env.liveSse && url.includes('live_sse=true')) {
      received.push(`${head} (SSE body not recorded)`)
      return response
    }
    // Read beside the client, not before it: a stalled or cut body must reach the client as it is.
    void response
      .clone()
      .text()
      .catch((error: unknown) => `<unreadable: ${String(error)}>`)
      .then((body) => {
        received.push(`${head} ${body.length > 1500 ? `${body.slice(0, 1500)}…` : body}`)
        if (received.length > 40) received.shift()
      })
    return response
  }
  const client = new ShapeClient({ random: seededRandom(scenario.seed), gracePeriodMs: 20, unusedTimeoutMs: 20, visibility: null, liveSse: env.liveSse, fetch: recordingFetch })
  const consumers: Consumer[] = scenario.consumers.map((c, index) => ({
    index,
    shape: c.shape % SHAPES.length,
    subscribed: false,
    handle: undefined,
    release: undefined,
    stop: [],
    historyIndex: 0,
    seen: new Map(),
  }))
  const model = new Map<number, FaultRow>()
  const history: Map<number, FaultRow>[] = []
  const fingerprints = SHAPES.map(() => [] as string[])
  let seq = 0
  let nextId = 1
  const startRequests = proxy.finished
  const startFaults = countFaults(proxy)

  const record = (): void => {
    history.push(new Map(model))
    SHAPES.forEach((shape, index) => fingerprints[index]?.push(fingerprint([...model.values()].filter(shape.test))))
  }

  const options = (shape: number): ShapeOptions<FaultRow> => {
    const where = SHAPES[shape]?.where
    return {
      url: `${proxy.url}/v1/shape`,
      params: where === undefined ? { table } : { table, where },
      backoff: BACKOFF,
      onError: (error) => void violations.push(`onError called on shape ${shape}: ${error.name} ${error.message}`),
      liveRequestTimeoutMs: LIVE_REQUEST_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    } as ShapeOptions<FaultRow>
  }

  const check = (consumer: Consumer): void => {
    const shape = consumer.handle
    if (shape === undefined) return
    const rows = shape.getSnapshot().data
    const print = fingerprint(rows)
    const states = fingerprints[consumer.shape] ?? []
    let found = -1
    for (let index = consumer.historyIndex; index < states.length; index++) {
      if (states[index] === print) {
        found = index
        break
      }
    }
    if (found === -1) {
      violations.push(`consumer ${consumer.index} (shape ${consumer.shape}) shows a state the table never had after state ${consumer.historyIndex}: ${print}`)
    } else consumer.historyIndex = found
    for (const row of rows) {
      const before = consumer.seen.get(row.id)
      if (before !== undefined && row.n < before) violations.push(`consumer ${consumer.index}: row ${row.id} went back from n=${before} to n=${row.n}`)
      consumer.seen.set(row.id, Math.max(before ?? 0, row.n))
    }
  }

  const checkStatus = (consumer: Consumer, status: ShapeStatus): void => {
    if (status.phase === 'live' && (status.error !== undefined || !status.isUpToDate)) {
      violations.push(`consumer ${consumer.index}: live with error=${status.error?.name} isUpToDate=${status.isUpToDate}`)
    }
    if (status.phase === 'error' && status.nextRetryAt === undefined && (status as { willRetry?: boolean }).willRetry !== true) {
      violations.push(`consumer ${consumer.index}: stopped by ${status.error?.name}: ${status.error?.message}`)
    }
  }

  const subscribe = (consumer: Consumer): void => {
    if (consumer.subscribed) return
    const shape = client.shape(options(consumer.shape))
    consumer.handle = shape
    consumer.subscribed = true
    consumer.release = shape.retain()
    consumer.stop.push(shape.subscribe(() => check(consumer)))
    consumer.stop.push(shape.subscribeStatus(() => checkStatus(consumer, shape.getStatus())))
    if (shape.getSnapshot().isUpToDate) check(consumer)
  }

  const unsubscribe = (consumer: Consumer): void => {
    if (!consumer.subscribed) return
    consumer.subscribed = false
    for (const stop of consumer.stop.splice(0)) stop()
    consumer.release?.()
    consumer.release = undefined
  }

  try {
    await env.transaction(table, async (tx) => {
      for (let i = 0; i < scenario.initialRows; i++) {
        const row: FaultRow = { id: nextId++, grp: i % 2 === 0 ? 'a' : 'b', v: (i * 37) % 100, n: 0 }
        model.set(row.id, row)
        await tx.insert(table, { ...row })
      }
    })
    record()
    proxy.chaos = scenario.chaosRate > 0 ? { rate: scenario.chaosRate, faults: CHAOS_FAULTS } : undefined
    scenario.consumers.forEach((c, index) => {
      if (c.subscribed) subscribe(consumers[index] as Consumer)
    })

    for (const step of scenario.steps) {
      switch (step.do) {
        case 'tx': {
          seq += 1
          const writes = planTransaction(step.ops, model, seq, () => nextId++)
          record()
          await env.transaction(table, async (tx) => {
            for (const write of writes) await write(tx, table)
          })
          break
        }
        case 'fault':
          // Long-polling consumers make no SSE requests: a fault meant for a live SSE response hits a live long-poll.
          for (const fault of step.faults) proxy.arm(!env.liveSse && fault.target === 'sse' ? { ...fault, target: 'live' } : fault)
          break
        case 'subscribe':
          subscribe(consumers[step.consumer % consumers.length] as Consumer)
          break
        case 'unsubscribe':
          unsubscribe(consumers[step.consumer % consumers.length] as Consumer)
          break
        case 'traffic':
          await boundedWait(proxy.waitForFinished(proxy.finished + step.requests), 3000)
          break
      }
    }

    proxy.calm()
    for (const consumer of consumers) subscribe(consumer)
    const full = await env.select(table, undefined)
    if (fingerprint(full) !== fingerprint([...model.values()])) violations.push(`model and SELECT differ: ${fingerprint(full)} vs ${fingerprint([...model.values()])}`)
    const expected = await Promise.all(SHAPES.map((shape) => env.select(table, shape.where)))
    const started = Date.now()
    await Promise.all(consumers.map((consumer) => converge(consumer, fingerprint(expected[consumer.shape] ?? []), env.convergeMs, violations)))
    const convergedMs = Date.now() - started
    for (const gap of proxy.retryAfterGaps) {
      if (retryAfterReceived.has(gap.query) && gap.waitedMs < gap.expectedMs - 5) violations.push(`retry-after ${gap.expectedMs} ms not honoured: asked again after ${gap.waitedMs} ms`)
    }
    if (violations.length > 0) throw new Error(`fault case failed (seed ${scenario.seed}):\n- ${[...new Set(violations)].slice(0, 20).join('\n- ')}\nrecent proxy records: ${JSON.stringify(proxy.records.filter((record) => record.url.includes(`table=${table}&`) || record.url.endsWith(`table=${table}`)).slice(-16))}\nresponses the client read, last ${received.length}:\n${received.join('\n')}`)
    return { requests: proxy.finished - startRequests, faults: countFaults(proxy) - startFaults, convergedMs }
  } finally {
    process.off('unhandledRejection', unhandled)
    process.off('uncaughtException', unhandled)
    for (const consumer of consumers) unsubscribe(consumer)
    client.dispose()
    proxy.calm()
  }
}

/** The writes of one transaction, applied to the model now (ids resolved against it) and to the table later. */
function planTransaction(
  ops: readonly FaultOp[],
  model: Map<number, FaultRow>,
  seq: number,
  newId: () => number,
): ((tx: FixtureWrites, table: string) => Promise<void>)[] {
  const writes: ((tx: FixtureWrites, table: string) => Promise<void>)[] = []
  for (const op of ops) {
    const ids = [...model.keys()].sort((a, b) => a - b)
    const picked = 'pick' in op && ids.length > 0 ? (ids[op.pick % ids.length] as number) : undefined
    if (op.op === 'insert' || picked === undefined) {
      const row: FaultRow = { id: newId(), grp: 'grp' in op ? op.grp : 'a', v: 'v' in op ? op.v : 0, n: seq }
      model.set(row.id, row)
      writes.push((tx, table) => tx.insert(table, { ...row }))
    } else if (op.op === 'update') {
      const row: FaultRow = { id: picked, grp: op.grp, v: op.v, n: seq }
      model.set(picked, row)
      writes.push((tx, table) => tx.update(table, { id: picked }, { grp: row.grp, v: row.v, n: seq }))
    } else if (op.op === 'delete') {
      model.delete(picked)
      writes.push((tx, table) => tx.delete(table, { id: picked }))
    } else {
      const old = model.get(picked) as FaultRow
      const row: FaultRow = { ...old, id: newId(), n: seq }
      model.delete(picked)
      model.set(row.id, row)
      writes.push((tx, table) => tx.update(table, { id: picked }, { id: row.id, n: seq }))
    }
  }
  return writes
}

/** Resolves when `consumer` shows `expected` and is `live`; on timeout, records why and resolves. */
function converge(consumer: Consumer, expected: string, ms: number, violations: string[]): Promise<void> {
  const shape = consumer.handle as Shape<FaultRow>
  const done = (): boolean => shape.getStatus().phase === 'live' && fingerprint(shape.getSnapshot().data) === expected
  return new Promise<void>((resolve) => {
    const stops: (() => void)[] = []
    const finish = (): void => {
      clearTimeout(timer)
      for (const stop of stops) stop()
      resolve()
    }
    const timer = setTimeout(() => {
      const status = shape.getStatus()
      violations.push(
        `consumer ${consumer.index} (shape ${consumer.shape}) did not converge within ${ms} ms: phase=${status.phase} ` +
          `error=${status.error?.name ?? '-'} transport=${status.transport}; rows ${fingerprint(shape.getSnapshot().data)} expected ${expected}`,
      )
      finish()
    }, ms)
    if (done()) return finish()
    const test = (): void => {
      if (done()) finish()
    }
    stops.push(shape.subscribe(test), shape.subscribeStatus(test))
  })
}

function boundedWait(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer))
}

function countFaults(proxy: FaultProxy): number {
  return Object.entries(proxy.counts).reduce((sum, [kind, count]) => (kind === 'pass' ? sum : sum + count), 0)
}

/** Rows as a comparable string, by id, numbers normalised (the memory source and PGlite may give text). */
export function fingerprint(rows: Iterable<{ id: unknown; grp: unknown; v: unknown; n: unknown }>): string {
  return [...rows]
    .map((row) => ({ id: Number(row.id), grp: String(row.grp), v: Number(row.v), n: Number(row.n) }))
    .sort((a, b) => a.id - b.id)
    .map((row) => `${row.id}:${row.grp}:${row.v}:${row.n}`)
    .join(',')
}

/** Fault kinds the property test draws, each with the requests it may hit. */
export const FAULTS: readonly { kind: FaultKind; targets: readonly FaultTarget[] }[] = [
  { kind: 'drop', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'server-error', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'retry-after', targets: ['any', 'live', 'sse'] },
  { kind: 'conflict', targets: ['with-handle'] },
  { kind: 'stall', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'hang', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'silence', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'delay', targets: ['any', 'initial', 'live', 'sse'] },
  { kind: 'cut', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'truncate', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  { kind: 'malformed', targets: ['any', 'initial', 'catch-up', 'live', 'sse'] },
  // Not on a first request: a new shape cannot tell a cached response of a shape that expired before it existed.
  { kind: 'replay', targets: ['with-handle', 'refetch'] },
  { kind: 'sse-buffer', targets: ['sse'] },
]

/** What chaos draws from: every fault on each of its targets, but no `hang` or `silence` (each costs a deadline). */
export const CHAOS_FAULTS: readonly FaultSpec[] = FAULTS.filter(({ kind }) => kind !== 'hang' && kind !== 'silence').flatMap(({ kind, targets }) =>
  targets.map((target) => ({ kind, target })),
)
