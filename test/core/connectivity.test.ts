/**
 * Outages (shapeStream.ts and connectivity.ts): a backoff wait ends at once on `retryNow()`, on `online`, on
 * `focus` and when the page becomes visible; `online` also sends a live request in flight again; `status.offline` follows the platform; only `retryNow()` restarts a
 * stream stopped by a non-retryable error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { browserConnectivity } from '../../src/core/connectivity'
import { NetworkError } from '../../src/core/errors'
import { ShapeClient } from '../../src/core/shapeClient'
import type { VisibilityAdapter } from '../../src/core/visibility'
import { catchUpResponse, FakeShapeServer, serverErrorResponse, snapshotRow } from './support/fakeShapeServer'
import type { ConnectivityChange } from '../../src/core/connectivity'
import { fakeConnectivity } from './support/fakeAdapters'
import { ManualClock } from './support/manualClock'
import { BASE_URL, statusWhere, streamHarness } from './support/streamHarness'

/** A stream whose first request failed with a network error: it waits `nextRetryAt` (a long wait: random 0.99). */
async function backingOff(overrides: Parameters<typeof streamHarness>[0] = {}) {
  const harness = streamHarness({ random: () => 0.99, ...overrides })
  harness.stream.start()
  ;(await harness.server.nextRequest()).fail(new TypeError('fetch failed'))
  const status = await statusWhere(harness.stream, (s) => s.nextRetryAt !== undefined)
  expect(status).toMatchObject({ phase: 'retrying' })
  expect(status.error).toBeInstanceOf(NetworkError)
  return harness
}

describe('retryNow()', () => {
  it('ends a backoff wait at once, and the next failure backs off from the first step again', async () => {
    const { server, clock, stream } = await backingOff()
    // Push the backoff up a few steps first.
    for (let i = 0; i < 3; i++) {
      clock.advance(stream.getStatus().nextRetryAt! - clock.now())
      ;(await server.nextRequest()).respond(serverErrorResponse(503))
      await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    }
    expect(clock.delays.filter((ms) => ms !== 45_000).at(-1)).toBe(Math.floor(0.99 * 8000))
    expect(stream.retryNow()).toBe(true)
    const retry = await server.nextRequest()
    expect(retry.params.get('offset')).toBe('-1')
    expect(stream.getStatus()).toMatchObject({ phase: 'retrying', nextRetryAt: undefined })
    retry.respond(serverErrorResponse(503))
    const again = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(again.nextRetryAt).toBe(clock.now() + Math.floor(0.99 * 1000))
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('restarts a stream stopped by a non-retryable error, and recovers', async () => {
    const { server, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(new Response('{"message":"Unauthorized"}', { status: 401 }))
    await statusWhere(stream, (s) => s.phase === 'error')
    expect(stream.retryNow()).toBe(true)
    const retry = await server.nextRequest()
    expect(stream.getStatus().phase).toBe('retrying')
    retry.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'a')] }))
    await stream.whenUpToDate()
    expect(stream.getStatus()).toMatchObject({ phase: 'live', error: undefined })
    stream.stop()
  })

  it('does nothing while the stream is healthy or stopped', async () => {
    const { server, stream } = streamHarness()
    expect(stream.retryNow()).toBe(false)
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await stream.whenUpToDate()
    await server.nextRequest()
    expect(stream.retryNow()).toBe(false)
    expect(server.requests).toHaveLength(2)
    stream.stop()
    expect(stream.retryNow()).toBe(false)
  })
})

describe('online, focus and visible end a backoff wait', () => {
  for (const change of ['online', 'focus'] as const) {
    it(`retries at once on ${change}`, async () => {
      const connectivity = fakeConnectivity()
      const { server, stream } = await backingOff({ connectivity: connectivity.adapter })
      connectivity.emit(change)
      const retry = await server.nextRequest()
      expect(retry.params.get('offset')).toBe('-1')
      retry.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
      await statusWhere(stream, (s) => s.phase === 'live')
      stream.stop()
      expect(connectivity.listeners).toBe(0)
    })
  }

  it('retries at once when the page becomes visible', async () => {
    let notify: () => void = () => undefined
    const visibility: VisibilityAdapter = {
      isHidden: () => false,
      subscribe: (listener) => {
        notify = listener
        return () => (notify = () => undefined)
      },
    }
    const { server, stream } = await backingOff({ visibility })
    notify()
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    stream.stop()
  })

  it('never restarts a stream stopped by a non-retryable error by itself', async () => {
    const connectivity = fakeConnectivity()
    const { server, clock, stream } = streamHarness({ connectivity: connectivity.adapter })
    stream.start()
    ;(await server.nextRequest()).respond(new Response('{"message":"Forbidden"}', { status: 403 }))
    await statusWhere(stream, (s) => s.phase === 'error')
    connectivity.emit('online')
    connectivity.emit('focus')
    clock.advance(60_000)
    await Promise.resolve()
    expect(server.requests).toHaveLength(1)
    expect(stream.getStatus().phase).toBe('error')
    stream.stop()
  })

  it('sends a live request in flight again at once on online (it may hang on a connection that died), applying nothing of the old one', async () => {
    const connectivity = fakeConnectivity()
    const { server, store, stream } = streamHarness({ connectivity: connectivity.adapter })
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'one')] }))
    const stuck = await server.nextRequest()
    expect(stuck.params.get('live')).toBe('true')
    // focus and offline leave a healthy live request alone.
    connectivity.emit('focus')
    connectivity.emit('offline')
    await Promise.resolve()
    expect(stuck.signal.aborted).toBe(false)
    connectivity.emit('online')
    expect(stuck.signal.aborted).toBe(true)
    const again = await server.nextRequest()
    expect(Object.fromEntries(again.params)).toMatchObject({ live: 'true', offset: stuck.params.get('offset'), handle: stuck.params.get('handle') })
    expect(stream.getStatus().phase).toBe('live')
    expect(stream.getStatus().error).toBeUndefined()
    expect(store.getSnapshot().data).toHaveLength(1)
    stream.stop()
  })

  it('shows offline from the adapter, and updates it on offline and online', async () => {
    const connectivity = fakeConnectivity(false)
    const { server, stream } = streamHarness({ connectivity: connectivity.adapter })
    expect(stream.getStatus().offline).toBe(true)
    stream.start()
    connectivity.emit('online')
    expect(stream.getStatus().offline).toBe(false)
    connectivity.emit('offline')
    expect(stream.getStatus().offline).toBe(true)
    ;(await server.nextRequest()).fail(new TypeError('fetch failed'))
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status).toMatchObject({ phase: 'retrying', offline: true })
    connectivity.emit('online')
    expect(stream.getStatus().offline).toBe(false)
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    stream.stop()
  })
})

describe('ShapeClient and Shape', () => {
  it('passes the connectivity adapter to its shapes and exposes retryNow on a shape', async () => {
    const server = new FakeShapeServer()
    const clock = new ManualClock()
    const connectivity = fakeConnectivity(false)
    const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.99, visibility: null, connectivity: connectivity.adapter })
    const shape = client.shape({ url: BASE_URL, params: { table: 'items' } })
    const release = shape.retain()
    expect(shape.getStatus().offline).toBe(true)
    ;(await server.nextRequest()).fail(new TypeError('fetch failed'))
    await statusWhere(shape, (s) => s.nextRetryAt !== undefined)
    expect(shape.retryNow()).toBe(true)
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await shape.whenUpToDate()
    expect(shape.retryNow()).toBe(false)
    release()
    client.dispose()
    expect(connectivity.listeners).toBe(0)
  })
})

describe('browserConnectivity', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('reads navigator.onLine and forwards online, offline and focus, removing its listeners on unsubscribe', () => {
    const target = new EventTarget()
    vi.stubGlobal('addEventListener', target.addEventListener.bind(target))
    vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target))
    const navigator = { onLine: false }
    vi.stubGlobal('navigator', navigator)
    const adapter = browserConnectivity()
    expect(adapter?.isOnline()).toBe(false)
    navigator.onLine = true
    expect(adapter?.isOnline()).toBe(true)
    const seen: ConnectivityChange[] = []
    const unsubscribe = adapter!.subscribe((change) => seen.push(change))
    for (const type of ['offline', 'online', 'focus', 'blur']) target.dispatchEvent(new Event(type))
    expect(seen).toEqual(['offline', 'online', 'focus'])
    unsubscribe()
    target.dispatchEvent(new Event('online'))
    expect(seen).toHaveLength(3)
  })

  it('is undefined where there is neither an event target nor navigator.onLine', () => {
    vi.stubGlobal('addEventListener', undefined)
    vi.stubGlobal('navigator', undefined)
    expect(browserConnectivity()).toBeUndefined()
  })
})
