/**
 * The SSE transport inside a real Chromium Web Worker (a Vite module worker), with no globals shimmed: the worker runs
 * the in-process dev server and a `ShapeClient({ liveSse: true })` itself (`support/sseWorker.ts`). Proves that core's
 * SSE path needs nothing from `document`/`window`: the shape goes live over SSE (status `sse`, a `live_sse=true`
 * request answered `text/event-stream`), and a write made after that arrives as one SSE batch and is published.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { FromWorker, ToWorker } from './support/sseWorker'

const WAIT_MS = 10_000

/** The messages of one worker, and an event-driven, bounded wait for one matching a predicate. */
function connect(worker: Worker): {
  messages: FromWorker[]
  next<K extends FromWorker['type']>(
    type: K,
    predicate: (message: Extract<FromWorker, { type: K }>) => boolean,
    label: string,
  ): Promise<Extract<FromWorker, { type: K }>>
  send(message: ToWorker): void
} {
  const messages: FromWorker[] = []
  const waiters = new Set<(message: FromWorker) => void>()
  let failure: string | undefined
  worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
    messages.push(event.data)
    for (const waiter of [...waiters]) waiter(event.data)
  })
  worker.addEventListener('error', (event) => {
    failure = event.message || 'the worker failed to load or threw'
    for (const waiter of [...waiters]) waiter({ type: 'failed', message: failure })
  })
  return {
    messages,
    send: (message) => worker.postMessage(message),
    next(type, predicate, label) {
      type Wanted = Extract<FromWorker, { type: typeof type }>
      const matches = (message: FromWorker): message is Wanted =>
        message.type === type && predicate(message as Wanted)
      const seen = messages.find(matches)
      if (seen) return Promise.resolve(seen)
      return new Promise<Wanted>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${label}`))
        }, WAIT_MS)
        const waiter = (message: FromWorker): void => {
          const failed = message.type === 'failed' ? message.message : failure
          if (failed !== undefined) {
            waiters.delete(waiter)
            clearTimeout(timer)
            reject(new Error(`the worker failed while waiting for ${label}: ${failed}`))
            return
          }
          if (!matches(message)) return
          waiters.delete(waiter)
          clearTimeout(timer)
          resolve(message)
        }
        waiters.add(waiter)
      })
    },
  }
}

let worker: Worker | undefined
afterEach(() => {
  worker?.terminate()
  worker = undefined
})

describe('SSE in a Web Worker (real Chromium)', () => {
  it('goes live over SSE and receives a later write as one batch, with no DOM globals', async () => {
    worker = new Worker(new URL('./support/sseWorker.ts', import.meta.url), { type: 'module' })
    const channel = connect(worker)

    const environment = await channel.next('environment', () => true, 'the worker environment')
    expect(environment).toMatchObject({ hasDocument: false, hasWindow: false, hasFetch: true })
    expect(environment.globalName).toBe('DedicatedWorkerGlobalScope')

    await channel.next(
      'status',
      ({ status }) => status.phase === 'live' && status.transport === 'sse',
      'the worker shape live over SSE',
    )
    const sse = await channel.next(
      'response',
      ({ url }) => new URL(url).searchParams.get('live_sse') === 'true',
      'a live SSE response',
    )
    expect(sse.status).toBe(200)
    expect(sse.contentType).toMatch(/^text\/event-stream/)
    const batchesBefore = channel.messages.filter((message) => message.type === 'batch').length

    channel.send({ type: 'insert', item: { id: 2, title: 'from the page' } })
    const batch = await channel.next('batch', ({ changes }) => changes.length > 0, 'the SSE batch of the write')
    expect(batch.changes).toEqual(['insert "public"."items"/"2"'])
    expect(channel.messages.filter((message) => message.type === 'batch').length).toBe(batchesBefore + 1)
    const snapshot = await channel.next(
      'snapshot',
      ({ rows }) => rows.some((row) => row.id === 2),
      'the published row',
    )
    expect(snapshot.rows).toEqual([
      { id: 1, title: 'seed' },
      { id: 2, title: 'from the page' },
    ])

    // Every live request on the wire was an SSE one answered with an event stream, and nothing fell back.
    const live = channel.messages.filter((message) => message.type === 'response')
    expect(live.every(({ url, contentType }) => new URL(url).searchParams.get('live_sse') === 'true' && contentType?.startsWith('text/event-stream'))).toBe(true)
    const statuses = channel.messages.filter((message) => message.type === 'status')
    expect(statuses.every(({ status }) => status.fallbackReason === undefined)).toBe(true)

    channel.send({ type: 'dispose' })
    await channel.next('disposed', () => true, 'the worker to dispose')
  })
})
