/**
 * No request waits forever (shapeStream.ts, liveDeadline.ts, the heartbeat in sseRunner.ts): a non-live request without
 * headers or body bytes, and an SSE connection without data or keep-alive, are abandoned after their bound and
 * retried as a retryable `NetworkError`; a response that keeps arriving is never cut.
 */
import { describe, expect, it } from 'vitest'
import { NetworkError } from '../../src/core/errors'
import type { FetchLike } from '../../src/core/fetchLike'
import { withIdleDeadline } from '../../src/core/liveDeadline'
import { sseRunner } from '../../src/core/sseRunner'
import { catchUpResponse, HANDLE, SCHEMA, snapshotRow } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { statusWhere, streamHarness } from './support/streamHarness'
import { controlledStream, event, sseResponse, upToDate } from './sseHelpers'

const url = 'http://x/v1/shape?offset=-1'

describe('withIdleDeadline', () => {
  it('restarts the full bound on every touch and expires only after that much silence', async () => {
    const clock = new ManualClock()
    let touch!: () => void
    let seen!: AbortSignal
    const outcome = withIdleDeadline(clock, 1000, url, new AbortController().signal, 'bytes', (signal, onTouch) => {
      touch = onTouch
      seen = signal
      return new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
    }).catch((error: unknown) => error)
    for (let i = 0; i < 5; i++) {
      clock.advance(999)
      touch()
    }
    expect(seen.aborted).toBe(false)
    clock.advance(1000)
    expect(seen.aborted).toBe(true)
    const error = await outcome
    expect(error).toBeInstanceOf(NetworkError)
    expect(String((error as NetworkError).cause)).toContain('no bytes within 1000 ms')
    expect(clock.pendingTimers).toBe(0)
  })

  it('turns a request that resolves after its deadline passed into a NetworkError (an abandoned request is no answer)', async () => {
    const clock = new ManualClock()
    const outcome = withIdleDeadline(clock, 1000, url, new AbortController().signal, 'bytes', (signal) =>
      new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('closed after abort'), { once: true })),
    )
    clock.advance(1000)
    await expect(outcome).rejects.toBeInstanceOf(NetworkError)
  })
})

describe('non-live requests have a deadline (requestTimeoutMs)', () => {
  it('abandons an initial sync request that gets no answer, shows it as retrying, and retries it', async () => {
    const { server, clock, stream } = streamHarness()
    stream.start()
    const hung = await server.nextRequest()
    expect(stream.getStatus().phase).toBe('connecting')
    clock.advance(44_999)
    expect(hung.signal.aborted).toBe(false)
    clock.advance(1)
    expect(hung.signal.aborted).toBe(true)
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.phase).toBe('retrying')
    expect(status.error).toBeInstanceOf(NetworkError)
    expect(String(status.error?.cause)).toMatch(/no response headers or body bytes within 45000 ms/)
    clock.advance(500)
    const retry = await server.nextRequest()
    expect(retry.params.get('offset')).toBe('-1')
    retry.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'a')] }))
    await stream.whenUpToDate()
    expect(stream.getStatus()).toMatchObject({ phase: 'live', error: undefined })
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('never cuts a body that keeps arriving, however long it takes in all, and cuts one that stalls', async () => {
    const { server, clock, store, stream } = streamHarness({ requestTimeoutMs: 10_000 })
    stream.start()
    const headers = catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }).headers
    const json = JSON.stringify([snapshotRow(1, 'a'), snapshotRow(2, 'b'), { headers: { control: 'up-to-date', global_last_seen_lsn: '1' } }])
    const slow = controlledStream()
    const first = await server.nextRequest()
    first.respond(new Response(slow.stream, { status: 200, headers }))
    for (let i = 0; i < json.length; i += 20) {
      await slow.drained()
      clock.advance(9_000) // 9 s between chunks: the whole body takes far longer than the 10 s bound
      slow.push(json.slice(i, i + 20))
    }
    await slow.drained()
    slow.close()
    await stream.whenUpToDate()
    expect(first.signal.aborted).toBe(false)
    expect(store.getSnapshot().data).toEqual([
      { id: 1, title: 'a' },
      { id: 2, title: 'b' },
    ])
    stream.stop()

    const stalled = streamHarness({ requestTimeoutMs: 10_000 })
    stalled.stream.start()
    const body = controlledStream()
    const request = await stalled.server.nextRequest()
    request.respond(new Response(body.stream, { status: 200, headers: { ...Object.fromEntries(headers), 'electric-schema': JSON.stringify(SCHEMA) } }))
    await body.drained()
    body.push(json.slice(0, 30))
    await body.drained()
    stalled.clock.advance(10_000)
    const status = await statusWhere(stalled.stream, (s) => s.error !== undefined)
    expect(status.error).toBeInstanceOf(NetworkError)
    expect(body.isCancelled()).toBe(true)
    expect(stalled.store.getSnapshot().rows.size).toBe(0)
    stalled.stream.stop()
  })
})

describe('SSE keep-alives are a heartbeat (liveRequestTimeoutMs)', () => {
  async function liveOverSse() {
    const clock = new ManualClock()
    const harness = streamHarness({
      clock,
      liveRunner: sseRunner({ fetch: (u, i) => harness.server.fetch(u, i), clock, random: () => 0.5 }),
    })
    const { server, stream } = harness
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [] }))
    const sse = await server.nextRequest()
    expect(sse.params.get('live_sse')).toBe('true')
    return { ...harness, clock, sse }
  }

  it('stays live while keep-alives arrive, and reconnects as a retryable NetworkError after 45 s of silence', async () => {
    const { server, clock, stream, sse } = await liveOverSse()
    const body = controlledStream()
    sse.respond(sseResponse(body.stream, { 'electric-handle': HANDLE, 'electric-offset': '0_inf' }))
    await body.drained()
    body.push(event(upToDate('5')))
    await body.drained()
    expect(stream.getStatus().phase).toBe('live')
    for (let i = 0; i < 4; i++) {
      clock.advance(30_000)
      body.push(': keep-alive\n\n')
      await body.drained()
    }
    expect(sse.signal.aborted).toBe(false)
    expect(stream.getStatus().phase).toBe('live')

    clock.advance(44_999)
    expect(sse.signal.aborted).toBe(false)
    clock.advance(1)
    expect(sse.signal.aborted).toBe(true)
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.phase).toBe('retrying')
    expect(status.error).toBeInstanceOf(NetworkError)
    expect(String(status.error?.cause)).toMatch(/no SSE data or keep-alive within 45000 ms/)
    expect(body.isCancelled()).toBe(true)
    clock.advance(status.nextRetryAt! - clock.now())
    const again = await server.nextRequest()
    expect(again.params.get('live_sse')).toBe('true')
    expect(again.params.get('offset')).toBe('0_inf')
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('bounds the wait for the SSE response headers too', async () => {
    const { clock, stream, sse } = await liveOverSse()
    clock.advance(45_000)
    expect(sse.signal.aborted).toBe(true)
    const status = await statusWhere(stream, (s) => s.error !== undefined)
    expect(status.error).toBeInstanceOf(NetworkError)
    stream.stop()
  })

  it('counts silent connections toward the buffering-proxy fallback', async () => {
    const clock = new ManualClock()
    const never: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true }))
    const runner = sseRunner({ fetch: never, clock, random: () => 0 })
    for (let i = 0; i < 3; i++) {
      expect(runner.isEnabled()).toBe(true)
      const run = runner.run(
        { url: 'http://x/v1/shape?live=true&offset=0_inf', headers: {}, signal: new AbortController().signal, fetch: never, idleTimeoutMs: 45_000 },
        { onOpen: () => undefined, onBatch: () => undefined },
      )
      clock.advance(45_000)
      await expect(run).rejects.toBeInstanceOf(NetworkError)
    }
    expect(runner.isEnabled()).toBe(false)
    expect(runner.fallbackReason()).toMatch(/silent past the heartbeat bound/)
  })
})
