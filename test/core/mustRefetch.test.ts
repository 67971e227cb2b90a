/**
 * 409 must-refetch under hostile caches, with a scripted fetch (shapeStream.ts on 409 and the rules on stale responses
 * and yielding): a response of the expired handle is never adopted, repeated 409s back off, and the request loop yields
 * to the event loop.
 */
import { describe, expect, it } from 'vitest'
import { realClock } from '../../src/core/clock'
import { RepeatedMustRefetchError, StaleResponseError } from '../../src/core/errors'
import type { FetchLike } from '../../src/core/fetchLike'
import type { Row } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'
import { ShapeStream } from '../../src/core/shapeStream'
import {
  catchUpResponse,
  HANDLE,
  liveResponse,
  mustRefetchResponse,
  snapshotRow,
  type PendingRequest,
} from './support/fakeShapeServer'
import { BASE_URL, statusWhere, streamHarness } from './support/streamHarness'

const FRESH = 'handle-2'

/** A stream that is live at `HANDLE` with one row, whose live request then gets a 409 naming `next`. */
async function liveThen409(next: string | undefined, overrides: Parameters<typeof streamHarness>[0] = {}) {
  const harness = streamHarness(overrides)
  const { server, stream } = harness
  stream.start()
  ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'old')] }))
  await stream.whenUpToDate()
  ;(await server.nextRequest()).respond(mustRefetchResponse(next))
  return harness
}

function mustRefetchWithRetryAfter(handle: string, retryAfter: string): Response {
  const response = mustRefetchResponse(handle)
  const headers = new Headers(response.headers)
  headers.set('retry-after', retryAfter)
  return new Response('[{"headers":{"control":"must-refetch"}}]', { status: 409, headers })
}

function expectRefetch(request: PendingRequest, handle: string | undefined): void {
  expect(request.params.get('offset')).toBe('-1')
  expect(request.params.get('expired_handle')).toBe(HANDLE)
  expect(request.params.get('handle')).toBe(handle ?? null)
  expect(request.params.get('cache-buster')).toMatch(/^\d+-[0-9a-z]+$/)
}

describe('after a 409, a response of the expired handle is never adopted', () => {
  for (const next of [FRESH, undefined]) {
    it(`refuses it and refetches at once with a fresh cache buster (409 ${next ? 'with' : 'without'} a handle)`, async () => {
      const { server, store, stream, statuses } = await liveThen409(next)
      const refetch = await server.nextRequest()
      expectRefetch(refetch, next)
      const published = store.getSnapshot()
      // A cache answers the refetch with the expired handle's snapshot: two rows, up to date.
      refetch.respond(
        catchUpResponse({ handle: HANDLE, requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'stale'), snapshotRow(2, 'stale')] }),
      )

      const again = await server.nextRequest()
      expectRefetch(again, next)
      expect(again.params.get('cache-buster')).not.toBe(refetch.params.get('cache-buster'))
      expect(stream.getStatus().nextRetryAt).toBeUndefined()
      expect(store.getSnapshot()).toBe(published)
      expect(stream.getState()).toMatchObject({ handle: next, expiredHandle: HANDLE, offset: '-1', upToDateSinceReset: false })
      expect(stream.getStatus()).toMatchObject({ phase: 'refetching', isUpToDate: false, handle: next })
      expect(statuses.some((s) => s.phase === 'live' && s.handle === HANDLE && s.offset === '0_inf' && !s.isUpToDate)).toBe(false)

      again.respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [snapshotRow(7, 'fresh')] }))
      const live = await server.nextRequest()
      expect(live.params.get('handle')).toBe(FRESH)
      expect(live.params.get('live')).toBe('true')
      expect(store.getSnapshot().data).toEqual([{ id: 7, title: 'fresh' }])
      expect(stream.getStatus()).toMatchObject({ phase: 'live', handle: FRESH, error: undefined })
      stream.stop()
    })
  }

  it('refuses a live response of the expired handle too, and never applies its changes', async () => {
    const { server, store, stream } = await liveThen409(FRESH)
    ;(await server.nextRequest()).respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [snapshotRow(7, 'fresh')] }))
    await stream.whenUpToDate()
    const live = await server.nextRequest()
    expect(live.params.get('handle')).toBe(FRESH)
    live.respond(liveResponse({ handle: HANDLE, requestOffset: '0_inf', offset: '10_0', cursor: '1', lsn: '10', messages: [snapshotRow(8, 'stale')] }))
    const again = await server.nextRequest()
    expect(Object.fromEntries(again.params)).toMatchObject({ handle: FRESH, live: 'true', offset: '0_inf', expired_handle: HANDLE })
    expect(again.params.get('cache-buster')).toMatch(/^\d+-[0-9a-z]+$/)
    expect(store.getSnapshot().data).toEqual([{ id: 7, title: 'fresh' }])
    expect(stream.getState()).toMatchObject({ handle: FRESH, offset: '0_inf' })
    stream.stop()
  })

  it('backs off when a cache keeps answering the live request with the expired handle (no hot loop while live)', async () => {
    const { server, clock, store, stream } = await liveThen409(FRESH)
    ;(await server.nextRequest()).respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [snapshotRow(7, 'fresh')] }))
    await stream.whenUpToDate()
    const staleLive = () => liveResponse({ handle: HANDLE, requestOffset: '0_inf', offset: '10_0', cursor: '1', lsn: '10', messages: [snapshotRow(8, 'stale')] })
    ;(await server.nextRequest()).respond(staleLive())
    ;(await server.nextRequest()).respond(staleLive())
    const waiting = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(waiting).toMatchObject({ phase: 'retrying', nextRetryAt: clock.now() + 500 })
    expect(waiting.error).toBeInstanceOf(StaleResponseError)
    expect(server.requests).toHaveLength(5)
    clock.advance(500)
    const retry = await server.nextRequest()
    expect(Object.fromEntries(retry.params)).toMatchObject({ handle: FRESH, live: 'true', offset: '0_inf' })
    expect(store.getSnapshot().data).toEqual([{ id: 7, title: 'fresh' }])
    stream.stop()
  })

  it('refuses a response of a handle retired two 409s ago (a cache replaying an older shape), for a 2xx and a 304', async () => {
    const { server, store, stream } = await liveThen409(FRESH)
    ;(await server.nextRequest()).respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [snapshotRow(7, 'fresh')] }))
    await stream.whenUpToDate()
    const third = 'handle-3'
    ;(await server.nextRequest()).respond(mustRefetchResponse(third))
    const refetch = await server.nextRequest()
    expect(refetch.params.get('expired_handle')).toBe(FRESH)
    // The cache answers with the first shape's snapshot: HANDLE is not the last expired handle, but it was retired.
    refetch.respond(catchUpResponse({ handle: HANDLE, requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'stale')] }))
    const again = await server.nextRequest()
    expect(Object.fromEntries(again.params)).toMatchObject({ offset: '-1', handle: third, expired_handle: FRESH })
    expect(again.params.get('cache-buster')).not.toBe(refetch.params.get('cache-buster'))
    expect(store.getSnapshot().data).toEqual([{ id: 7, title: 'fresh' }])
    expect(stream.getState()).toMatchObject({ handle: third, offset: '-1', retiredHandles: [HANDLE, FRESH] })

    again.respond(catchUpResponse({ handle: third, requestOffset: '-1', offset: '0_inf', lsn: '12', messages: [snapshotRow(9, 'third')] }))
    await statusWhere(stream, (s) => s.phase === 'live' && s.handle === third)
    const live = await server.nextRequest()
    // A 304 that names a retired handle is a cache's replay too: never taken as "nothing new" for the live shape.
    live.respond(new Response(null, { status: 304, headers: { 'electric-handle': HANDLE, 'electric-cursor': '3' } }))
    const after304 = await server.nextRequest()
    expect(Object.fromEntries(after304.params)).toMatchObject({ handle: third, live: 'true', offset: '0_inf' })
    expect(after304.params.get('cache-buster')).toMatch(/^\d+-[0-9a-z]+$/)
    expect(store.getSnapshot().data).toEqual([{ id: 9, title: 'third' }])
    stream.stop()
  })

  it('backs off when the cache keeps answering with the expired handle, keeping the old rows', async () => {
    const { server, clock, store, stream } = await liveThen409(FRESH)
    const stale = () => catchUpResponse({ handle: HANDLE, requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(2, 'stale')] })
    ;(await server.nextRequest()).respond(stale())
    ;(await server.nextRequest()).respond(stale())
    const waiting = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(waiting).toMatchObject({ phase: 'retrying', nextRetryAt: clock.now() + 500 })
    expect(waiting.error).toBeInstanceOf(StaleResponseError)
    expect((waiting.error as StaleResponseError).handle).toBe(HANDLE)
    expect(store.getSnapshot().data).toEqual([{ id: 1, title: 'old' }])
    expect(server.requests).toHaveLength(4)
    clock.advance(500)
    const retry = await server.nextRequest()
    expectRefetch(retry, FRESH)
    retry.respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [snapshotRow(7, 'fresh')] }))
    await statusWhere(stream, (s) => s.phase === 'live')
    expect(store.getSnapshot().data).toEqual([{ id: 7, title: 'fresh' }])
    stream.stop()
  })
})

describe('consecutive 409s back off', () => {
  it('refetches the first 409 at once and backs off the next ones with jitter and a new cache buster', async () => {
    const { server, clock, stream } = await liveThen409(FRESH)
    const first = await server.nextRequest()
    expect(stream.getStatus()).toMatchObject({ phase: 'refetching', nextRetryAt: undefined })
    first.respond(mustRefetchResponse('handle-3'))

    const waiting = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(waiting).toMatchObject({ phase: 'retrying', nextRetryAt: clock.now() + 500, handle: 'handle-3' })
    expect(waiting.error).toBeInstanceOf(RepeatedMustRefetchError)
    expect(waiting.error).toMatchObject({ status: 409, consecutive: 2, retryable: true, code: 'must-refetch' })
    expect(server.requests).toHaveLength(3)
    clock.advance(499)
    expect(server.requests).toHaveLength(3)
    clock.advance(1)
    const second = await server.nextRequest()
    expect(second.params.get('handle')).toBe('handle-3')
    expect(second.params.get('cache-buster')).not.toBe(first.params.get('cache-buster'))
    second.respond(mustRefetchResponse('handle-4'))

    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(clock.delays.at(-1)).toBe(1000) // third 409: the second backoff step, 0.5 × 2000
    expect(stream.getStatus().error).toMatchObject({ consecutive: 3 })
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('honours retry-after on a repeated 409', async () => {
    const { server, clock, stream } = await liveThen409(FRESH)
    ;(await server.nextRequest()).respond(mustRefetchWithRetryAfter('handle-3', '7'))
    const waiting = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(waiting.nextRetryAt).toBe(clock.now() + 7000)
    clock.advance(6999)
    expect(server.requests).toHaveLength(3)
    clock.advance(1)
    expect((await server.nextRequest()).params.get('handle')).toBe('handle-3')
    stream.stop()
  })

  it('starts counting again after an up-to-date: a later single 409 is refetched at once', async () => {
    const { server, stream } = await liveThen409(FRESH)
    ;(await server.nextRequest()).respond(catchUpResponse({ handle: FRESH, requestOffset: '-1', offset: '0_inf', lsn: '9', messages: [] }))
    ;(await server.nextRequest()).respond(mustRefetchResponse('handle-3'))
    const refetch = await server.nextRequest()
    expect(refetch.params.get('handle')).toBe('handle-3')
    expect(refetch.params.get('expired_handle')).toBe(FRESH)
    expect(stream.getStatus()).toMatchObject({ phase: 'refetching', error: undefined })
    stream.stop()
  })
})

describe('the request loop yields to the event loop', () => {
  /** A fetch that answers 409 to everything without any I/O, counting calls; past `limit` it stops the stream. */
  function everything409(limit: number) {
    let calls = 0
    let stream: ShapeStream<Row> | undefined
    let starved = false
    const fetch: FetchLike = () => {
      calls += 1
      if (calls > limit) {
        starved = true
        stream?.stop()
      }
      return Promise.resolve(mustRefetchResponse(`handle-${calls}`))
    }
    return {
      fetch,
      attach: (s: ShapeStream<Row>) => (stream = s),
      get calls() {
        return calls
      },
      get starved() {
        return starved
      },
    }
  }

  function timerFires(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
  }

  it('lets a 50 ms timer fire while a server answers 409 to everything, even with zero backoff delays', async () => {
    const server = everything409(20_000)
    const stream = new ShapeStream<Row>({
      url: BASE_URL,
      params: { table: 'items' },
      store: new ShapeStore<Row>({ now: Date.now }),
      fetch: server.fetch,
      clock: realClock,
      random: () => 0, // every backoff wait is 0 ms: only the yield between requests lets the timer in
    })
    server.attach(stream)
    stream.start()
    await timerFires(50)
    const running = stream.getState().phase !== 'stopped'
    stream.stop()
    expect(server.starved).toBe(false)
    expect(running).toBe(true)
    expect(server.calls).toBeGreaterThan(1)
  })

  it('sends at most a few requests in 50 ms to a server answering 409 to everything (default backoff)', async () => {
    const server = everything409(10_000)
    const stream = new ShapeStream<Row>({
      url: BASE_URL,
      params: { table: 'items' },
      store: new ShapeStore<Row>({ now: Date.now }),
      fetch: server.fetch,
      clock: realClock,
      random: () => 0.5, // the second 409 waits 500 ms
    })
    server.attach(stream)
    stream.start()
    await timerFires(50)
    stream.stop()
    expect(server.starved).toBe(false)
    expect(server.calls).toBe(2)
  })
})
