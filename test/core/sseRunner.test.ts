import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/core/clock'
import { NetworkError } from '../../src/core/errors'
import type { LiveBatch, LiveRunSink } from '../../src/core/liveRunner'
import type { ResponseMeta } from '../../src/core/responseMeta'
import { lazySseRunner } from '../../src/core/lazySseRunner'
import { sseRunner } from '../../src/core/sseRunner'
import { change, chunkedStream, controlledStream, event, scriptedFetch, sseResponse, upToDate } from './sseHelpers'

/** A clock whose time the test moves; timers fire on the next microtask and record their delay. */
function testClock() {
  let time = 0
  const delays: number[] = []
  const clock: Clock & { advance(ms: number): void } = {
    now: () => time,
    advance: (ms) => void (time += ms),
    setTimeout: (fn, ms) => {
      delays.push(ms)
      queueMicrotask(fn)
      return delays.length
    },
    clearTimeout: () => undefined,
  }
  return { clock, delays }
}

const URL_ = 'http://shapes.test/v1/shape?experimental_live_sse=true&handle=h1&live=true&live_sse=true&offset=100_4&table=items'

function sink() {
  const opens: ResponseMeta[] = []
  const batches: LiveBatch[] = []
  const value: LiveRunSink = { onOpen: (meta) => opens.push(meta), onBatch: (batch) => batches.push(batch) }
  return { opens, batches, sink: value }
}

describe.each([
  { name: 'sseRunner', factory: sseRunner },
  { name: 'lazySseRunner (loads sseRunner on first run)', factory: lazySseRunner },
])('$name', ({ factory }) => {
  it('asks for both SSE params and reports the SSE transport', () => {
    const runner = factory({ fetch: scriptedFetch(), clock: testClock().clock, random: () => 0 })
    expect(runner.transport).toBe('sse')
    expect(runner.extraParams).toEqual({ live_sse: 'true', experimental_live_sse: 'true' })
    expect(runner.isEnabled()).toBe(true)
    expect(runner.fallbackReason()).toBeUndefined()
  })

  it('opens at the request offset, not the electric-offset header, and passes whole batches on', async () => {
    const { clock } = testClock()
    const fetch = scriptedFetch(() => {
      clock.advance(5000)
      const tx = [change('200', 0, 'a'), change('200', 2, 'b'), upToDate('200')]
      return sseResponse(chunkedStream([tx.map(event).join('')]), { 'electric-offset': '900_0' })
    })
    const runner = factory({ fetch, clock, random: () => 0 })
    const out = sink()
    const end = await runner.run({ url: URL_, headers: { authorization: 'x' }, signal: new AbortController().signal, fetch }, out.sink)
    expect(out.opens.map((m) => m.offset)).toEqual(['100_4'])
    expect(out.batches.map((b) => b.offset)).toEqual(['200_2'])
    expect(end).toEqual({ kind: 'closed', durationMs: 5000, aborted: false })
    expect(new Headers(fetch.calls[0]?.init.headers).get('authorization')).toBe('x')
  })

  it('falls back to long-polling after three short connections, spacing the retries, and a reset re-enables it', async () => {
    const { clock, delays } = testClock()
    const fetch = scriptedFetch(...Array.from({ length: 4 }, () => () => sseResponse(chunkedStream([]))))
    const runner = factory({ fetch, clock, random: () => 0.5 })
    const request = { url: URL_, headers: {}, signal: new AbortController().signal, fetch }
    for (let i = 0; i < 3; i++) {
      expect(runner.isEnabled()).toBe(true)
      await runner.run(request, sink().sink)
    }
    expect(delays).toEqual([100, 200])
    expect(runner.isEnabled()).toBe(false)
    expect(runner.fallbackReason()).toMatch(/3 consecutive SSE responses closed within 1 s/)
    runner.onReset?.()
    expect(runner.isEnabled()).toBe(true)
    expect(runner.fallbackReason()).toBeUndefined()
  })

  it('never falls back on short responses that delivered changes, only on short ones that carried nothing', async () => {
    const { clock } = testClock()
    const catchUp = (lsn: string) => () => sseResponse(chunkedStream([[change(lsn, 0, lsn), upToDate(lsn)].map(event).join('')]))
    const onlyUpToDate = () => sseResponse(chunkedStream([event(upToDate('9'))]))
    const fetch = scriptedFetch(catchUp('200'), catchUp('201'), catchUp('202'), catchUp('203'), onlyUpToDate, onlyUpToDate, onlyUpToDate)
    const runner = factory({ fetch, clock, random: () => 0 })
    const request = { url: URL_, headers: {}, signal: new AbortController().signal, fetch }
    for (let i = 0; i < 4; i++) await runner.run(request, sink().sink)
    expect(runner.isEnabled()).toBe(true)
    expect(runner.fallbackReason()).toBeUndefined()
    for (let i = 0; i < 3; i++) await runner.run(request, sink().sink)
    expect(runner.isEnabled()).toBe(false)
  })

  it('a long connection resets the count', async () => {
    const { clock } = testClock()
    const durations = [10, 10, 2000, 10, 10]
    const fetch = scriptedFetch(
      ...durations.map((ms) => () => {
        clock.advance(ms)
        return sseResponse(chunkedStream([]))
      }),
    )
    const runner = factory({ fetch, clock, random: () => 0 })
    for (const _ of durations) await runner.run({ url: URL_, headers: {}, signal: new AbortController().signal, fetch }, sink().sink)
    expect(runner.isEnabled()).toBe(true)
  })

  it('counts a connection that failed mid-stream, and rethrows its error', async () => {
    const { clock } = testClock()
    const bodies = [controlledStream(), controlledStream(), controlledStream()]
    const fetch = scriptedFetch(...bodies.map((body) => () => sseResponse(body.stream)))
    const runner = factory({ fetch, clock, random: () => 0 })
    for (const body of bodies) {
      const ended = runner.run({ url: URL_, headers: {}, signal: new AbortController().signal, fetch }, sink().sink)
      await body.drained()
      body.error(new TypeError('terminated'))
      await expect(ended).rejects.toBeInstanceOf(NetworkError)
    }
    expect(runner.isEnabled()).toBe(false)
  })

  it('does not count connections we aborted, and returns at once', async () => {
    const { clock } = testClock()
    const body = controlledStream()
    const fetch = scriptedFetch(() => sseResponse(body.stream))
    const runner = factory({ fetch, clock, random: () => 0 })
    const controller = new AbortController()
    const out = sink()
    const ended = runner.run({ url: URL_, headers: {}, signal: controller.signal, fetch }, out.sink)
    await body.drained()
    controller.abort()
    expect(await ended).toEqual({ kind: 'closed', durationMs: 0, aborted: true })
    expect(body.isCancelled()).toBe(true)
  })

  it('maps a 409 to must-refetch', async () => {
    const { clock } = testClock()
    const fetch = scriptedFetch(new Response('[{"headers":{"control":"must-refetch"}}]', { status: 409, headers: { 'electric-handle': 'h2' } }))
    const runner = factory({ fetch, clock, random: () => 0 })
    expect(await runner.run({ url: URL_, headers: {}, signal: new AbortController().signal, fetch }, sink().sink)).toEqual({
      kind: 'must-refetch',
      handle: 'h2',
    })
  })

  it("passes a 409's retry-after on", async () => {
    const { clock } = testClock()
    const fetch = scriptedFetch(new Response('[]', { status: 409, headers: { 'electric-handle': 'h2', 'retry-after': '4' } }))
    const runner = factory({ fetch, clock, random: () => 0 })
    expect(await runner.run({ url: URL_, headers: {}, signal: new AbortController().signal, fetch }, sink().sink)).toStrictEqual({
      kind: 'must-refetch',
      handle: 'h2',
      retryAfter: '4',
    })
  })
})
