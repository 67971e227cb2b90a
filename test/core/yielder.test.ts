import { describe, expect, it } from 'vitest'
import type { LongPollRequest } from '../../src/core/longPollTransport'
import { longPollRequest } from '../../src/core/longPollTransport'
import { parseMessageArray } from '../../src/core/messageArray'
import type { Yielder } from '../../src/core/yielder'
import { createYielder, neverYield } from '../../src/core/yielder'
import { catchUpResponse, FakeShapeServer, HANDLE, snapshotRow } from './support/fakeShapeServer'
import { streamHarness } from './support/streamHarness'

const URL_ = 'http://localhost:3000/v1/shape?log=full&offset=-1&table=items'

/** A yielder that is always due and records each yield; `gate` decides when a yield resolves. */
function countingYielder(gate: () => Promise<void> = () => Promise.resolve()): Yielder & { yields: number } {
  const yielder = {
    yields: 0,
    start: () => undefined,
    due: () => true,
    yield: async () => {
      yielder.yields += 1
      await gate()
    },
  }
  return yielder
}

/** `count` insert messages whose compact JSON is far longer than one piece (64 KiB). */
function bigBody(count: number): string {
  return JSON.stringify(Array.from({ length: count }, (_, index) => snapshotRow(index, `title ${index} ${'x'.repeat(100)}`)))
}

describe('createYielder', () => {
  it('is due once a slice ran for its budget; start and yield begin a new slice', async () => {
    let time = 0
    const scheduled: Array<() => void> = []
    const yielder = createYielder({ sliceMs: 8, now: () => time, schedule: () => new Promise<void>((resolve) => scheduled.push(resolve)) })
    expect(yielder.due()).toBe(false)
    time = 7
    expect(yielder.due()).toBe(false)
    time = 8
    expect(yielder.due()).toBe(true)
    yielder.start()
    expect(yielder.due()).toBe(false)
    time = 20
    const yielded = yielder.yield()
    expect(scheduled).toHaveLength(1)
    time = 21
    scheduled[0]?.()
    await yielded
    expect(yielder.due()).toBe(false)
    time = 29
    expect(yielder.due()).toBe(true)
  })

  it('yields to the event loop, not to a microtask: macrotasks queued before get to run', async () => {
    let ranMacrotask = false
    setImmediate(() => (ranMacrotask = true))
    const yielder = createYielder()
    // Microtasks alone would loop here without ever running the macrotask.
    for (let i = 0; i < 100 && !ranMacrotask; i++) await yielder.yield()
    expect(ranMacrotask).toBe(true)
  })

  it('queues the next slice with scheduler.postTask at user-visible priority where it exists, not scheduler.yield', async () => {
    const platform = globalThis as { scheduler?: unknown }
    const saved = platform.scheduler
    const priorities: unknown[] = []
    let yields = 0
    platform.scheduler = {
      postTask: (callback: () => void, options: { priority: unknown }) => {
        priorities.push(options.priority)
        return new Promise<void>((resolve) => setImmediate(() => resolve(callback())))
      },
      yield: () => {
        yields += 1
        return Promise.resolve()
      },
    }
    try {
      await createYielder().yield()
    } finally {
      platform.scheduler = saved
    }
    expect(priorities).toEqual(['user-visible'])
    expect(yields).toBe(0)
  })

  it('neverYield is never due', () => {
    neverYield.start()
    expect(neverYield.due()).toBe(false)
  })
})

describe('reading a body in slices', () => {
  function request(response: Response, overrides: Partial<LongPollRequest>, controller = new AbortController()) {
    const server = new FakeShapeServer()
    const result = longPollRequest({ url: URL_, headers: {}, live: false, signal: controller.signal, fetch: server.fetch, ...overrides })
    void server.nextRequest().then((pending) => pending.respond(response))
    return result
  }

  const headers = { 'electric-server': 'test', 'electric-handle': HANDLE, 'electric-offset': '0_0', 'electric-schema': '{}' }

  it('cuts a body handed over whole into pieces, yields between them, and returns exactly what one parse would', async () => {
    const text = bigBody(3000)
    expect(text.length).toBeGreaterThan(3 * 64 * 1024)
    const yielder = countingYielder()
    const groups: number[] = []
    const outcome = await request(new Response(text, { status: 200, headers }), {
      yielder,
      stage: () => (group) => {
        groups.push(group.length)
        return true
      },
    })
    // Each piece but the first waited for the event loop, and its whole messages were staged as they came.
    expect(yielder.yields).toBeGreaterThanOrEqual(3)
    expect(groups.length).toBeGreaterThanOrEqual(3)
    const rest = outcome.kind === 'ok' ? outcome.messages : []
    expect(groups.reduce((sum, size) => sum + size, 0) + rest.length).toBe(3000)
    const whole = parseMessageArray(text, URL_)
    expect(rest).toEqual(whole.slice(whole.length - rest.length))
  })

  it('without a yielder, or with one that is never due, reads on without yielding', async () => {
    const text = bigBody(3000)
    const outcome = await request(new Response(text, { status: 200, headers }), { yielder: neverYield })
    expect(outcome.kind === 'ok' ? outcome.messages : []).toEqual(parseMessageArray(text, URL_))
  })

  it('an abort while yielding rejects with the abort reason', async () => {
    const controller = new AbortController()
    let releaseYield!: () => void
    const yielding = new Promise<void>((resolve) => (releaseYield = resolve))
    const yielder = countingYielder(() => {
      releaseYield()
      return new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve()))
    })
    const result = request(new Response(bigBody(3000), { status: 200, headers }), { yielder }, controller)
    await yielding
    const reason = new Error('stopped')
    controller.abort(reason)
    await expect(result).rejects.toBe(reason)
  })
})

describe('a stream syncing in slices', () => {
  it('publishes nothing while a body is paused between slices, then every row at once', async () => {
    const gates: Array<() => void> = []
    const yielder = countingYielder(() => new Promise<void>((resolve) => gates.push(resolve)))
    const { server, store, stream } = streamHarness({ yielder })
    let publishes = 0
    store.subscribe(() => (publishes += 1))
    stream.start()
    const rows = Array.from({ length: 3000 }, (_, index) => snapshotRow(index + 1, `title ${index} ${'x'.repeat(100)}`))
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: rows }))
    let done = false
    void stream.whenUpToDate().then(() => (done = true))
    while (!done) {
      // Whenever the reader is paused at a yield, nothing of the body shows; then it goes on.
      const gate = gates.shift()
      if (gate !== undefined) {
        expect(store.getSnapshot().rows.size).toBe(0)
        expect(publishes).toBe(0)
        gate()
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    await stream.whenUpToDate()
    expect(yielder.yields).toBeGreaterThanOrEqual(3)
    expect(publishes).toBe(1)
    expect(store.getSnapshot().rows.size).toBe(3000)
    stream.stop()
  })
})
