import { describe, expect, it } from 'vitest'
import { InvalidOptionsError, ReservedParamError } from '../../src/core/errors'
import type { ShapeOptions } from '../../src/core/shapeOptions'
import { ShapeClient } from '../../src/core/shapeClient'
import { RETARGET } from '../../src/core/functionForwarders'
import { catchUpResponse, change, FakeShapeServer, HANDLE, liveResponse, snapshotRow, upToDate } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { statusWhere } from './support/streamHarness'

const url = 'http://localhost:3000/v1/shape'

function setup(gracePeriodMs?: number) {
  const server = new FakeShapeServer()
  const clock = new ManualClock()
  const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.5, visibility: null, ...(gracePeriodMs === undefined ? {} : { gracePeriodMs }) })
  return { server, clock, client }
}

const items = (): ShapeOptions => ({ url, params: { table: 'items', where: 'done = $1', params: ['false'] } })

describe('ShapeClient', () => {
  it('refuses options it cannot run with, with InvalidOptionsError naming the option, before anything starts', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /ShapeClient options must be an object/],
      ['fast', /ShapeClient options must be an object/],
      [{ fetch: 5 }, /"fetch" must be a function/],
      [{ random: 0.5 }, /"random" must be a function/],
      [{ yielder: {} }, /"yielder" must be a function/],
      [{ liveRunner: 'sse' }, /"liveRunner" must be a function/],
      [{ clock: 'now' }, /"clock" must be an object, got "now"/],
      [{ clock: null }, /"clock" must be an object, got null/],
      [{ gracePeriodMs: -1 }, /"gracePeriodMs" must be a number ≥ 0, got -1/],
      [{ unusedTimeoutMs: '30s' }, /"unusedTimeoutMs" must be a number ≥ 0, got "30s"/],
      [{ liveSse: 'yes' }, /"liveSse" must be a boolean/],
      [{ visibility: true }, /"visibility" must be an object, got true/],
      [{ connectivity: 1 }, /"connectivity" must be an object, got 1/],
    ]
    for (const [options, message] of bad) {
      expect(() => new ShapeClient(options as never)).toThrow(InvalidOptionsError)
      expect(() => new ShapeClient(options as never)).toThrow(message)
    }
    const fine = new ShapeClient({ fetch: new FakeShapeServer().fetch, clock: new ManualClock(), visibility: null, connectivity: null, gracePeriodMs: 0, liveSse: true })
    fine.dispose()
    new ShapeClient(undefined).dispose()
  })

  it('returns the same shape for equal definitions and different ones otherwise', () => {
    const { client } = setup()
    const a = client.shape(items())
    expect(client.shape({ url, params: { params: { '1': 'false' }, where: 'done = $1', table: 'items' } })).toBe(a)
    expect(client.shape({ url, params: { table: 'items', where: 'done = $1', params: ['true'] } })).not.toBe(a)
    expect(client.size).toBe(2)
  })

  it('names a shape by its definition key, which is not a row key', () => {
    const { client } = setup()
    const a = client.shape(items())
    expect(typeof a.definitionKey).toBe('string')
    expect(client.shape({ url, params: { table: 'items', where: 'done = $1', params: ['true'] } }).definitionKey).not.toBe(a.definitionKey)
    expect('key' in a).toBe(false)
  })

  it('keeps function identities per client instance', () => {
    const token = () => 'Bearer t'
    const one = setup().client
    const other = setup().client
    const options = (): ShapeOptions => ({ url, params: { table: 'items' }, headers: { Authorization: token } })
    expect(one.shape(options())).toBe(one.shape(options()))
    expect(one.shape({ url, params: { table: 'items' }, headers: { Authorization: () => 'Bearer t' } })).not.toBe(one.shape(options()))
    expect(other.shape(options())).not.toBe(one.shape(options()))
  })

  it('calls the functions of its options through forwarders that RETARGET points at later ones; plain values stay as given', () => {
    const { client } = setup()
    const calls: string[] = []
    const first = (): string => (calls.push('first'), 'Bearer 1')
    const int4 = (value: string): number => (calls.push('int4'), Number(value))
    const options: ShapeOptions = { url, params: { table: 'items', where: 'done = $1', params: ['false'] }, headers: { Authorization: first, 'x-tenant': 'acme' }, parser: { int4 } }
    const shape = client.shape(options)
    expect(client.shape({ ...options })).toBe(shape)
    const headers = shape.options.headers as Record<string, unknown>
    expect(headers['x-tenant']).toBe('acme')
    expect(shape.options.params.params).toEqual(['false'])
    expect((headers['Authorization'] as () => string)()).toBe('Bearer 1')
    shape[RETARGET]({ ...options, headers: { Authorization: () => (calls.push('second'), 'Bearer 2'), 'x-tenant': 'acme' } })
    expect((headers['Authorization'] as () => string)()).toBe('Bearer 2')
    expect((shape.options.parser as Record<string, (value: string) => unknown>)['int4']!('7')).toBe(7)
    expect(calls).toEqual(['first', 'second', 'int4'])
    // Options without functions are used as given.
    const plain: ShapeOptions = { url, params: { table: 'plain' } }
    expect(client.shape(plain).options).toBe(plain)
  })

  it('throws typed errors synchronously for bad options and registers nothing', () => {
    const { client, server } = setup()
    expect(() => client.shape({ url: '', params: { table: 'items' } })).toThrow(InvalidOptionsError)
    expect(() => client.shape({ url, params: { table: 'items', replica: 'half' as never } })).toThrow(InvalidOptionsError)
    expect(() => client.shape({ url, params: { table: 'items', offset: '0_0' } })).toThrow(ReservedParamError)
    expect(client.size).toBe(0)
    expect(server.requests).toHaveLength(0)
  })

  it('two subscribers share one fetch stream, and both see the same rows', async () => {
    const { client, server } = setup()
    const first = client.shape(items())
    const second = client.shape(items())
    const releaseFirst = first.retain()
    const releaseSecond = second.retain()
    const request = await server.nextRequest()
    expect(server.requests).toHaveLength(1)
    request.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '3', messages: [snapshotRow(1, 'shared')] }))
    await Promise.all([first.whenUpToDate(), second.whenUpToDate()])
    await server.nextRequest()
    expect(server.requests).toHaveLength(2)
    expect(server.inFlight).toBe(1)
    expect(second.getSnapshot()).toBe(first.getSnapshot())
    expect(first.getRow('"public"."items"/"1"')).toEqual({ id: 1, title: 'shared' })
    releaseFirst()
    releaseSecond()
    client.dispose()
  })

  it('does not start a stream before the first retain', async () => {
    const { client, server } = setup()
    const shape = client.shape(items())
    expect(shape.getStatus().phase).toBe('idle')
    shape.retain()
    await server.nextRequest()
    expect(shape.getStatus().phase).toBe('connecting')
    client.dispose()
  })

  it('closes after the grace period and a retain during it cancels the close', async () => {
    const { client, server, clock } = setup(3000)
    const shape = client.shape(items())
    const release = shape.retain()
    const request = await server.nextRequest()
    release()
    release()
    expect(shape.refCount).toBe(0)
    clock.advance(2999)
    expect(request.signal.aborted).toBe(false)
    const again = client.shape(items()).retain()
    expect(client.shape(items())).toBe(shape)
    clock.advance(10_000)
    expect(request.signal.aborted).toBe(false)
    expect(clock.pendingTimers).toBe(1) // the in-flight request's deadline (requestTimeoutMs), no grace timer
    again()
    clock.advance(3000)
    expect(request.signal.aborted).toBe(true)
    expect(shape.isClosed).toBe(true)
  })

  it('leaves nothing after the last release and the grace period: no request in flight, no timer, empty registry', async () => {
    const { client, server, clock } = setup()
    const shapes = [client.shape(items()), client.shape({ url, params: { table: 'other' } })]
    const releases = shapes.map((shape) => shape.retain())
    for (let i = 0; i < shapes.length; i++) {
      const request = await server.nextRequest()
      request.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    }
    await Promise.all(shapes.map((shape) => shape.whenUpToDate()))
    await server.nextRequest()
    await server.nextRequest()
    expect(server.inFlight).toBe(2)
    for (const release of releases) release()
    expect(client.size).toBe(2)
    clock.advance(3000)
    expect(server.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    expect(client.size).toBe(0)
    expect(shapes.map((shape) => shape.getStatus().phase)).toEqual(['idle', 'idle'])
    const fresh = client.shape(items())
    expect(fresh).not.toBe(shapes[0])
  })

  it('a retry-after heard by a shape that then closed holds back the next shape of the same definition, and no other', async () => {
    const { client, server, clock } = setup(100)
    const first = client.shape(items())
    const release = first.retain()
    ;(await server.nextRequest()).respond(new Response('{"message":"busy"}', { status: 503, headers: { 'retry-after': '5' } }))
    await statusWhere(first, (status) => status.nextRetryAt !== undefined)
    release()
    clock.advance(100)
    expect(first.isClosed).toBe(true)
    expect(client.size).toBe(0)

    const second = client.shape(items())
    expect(second).not.toBe(first)
    const releaseSecond = second.retain()
    const releaseOther = client.shape({ url, params: { table: 'other' } }).retain()
    const other = await server.nextRequest()
    expect(other.params.get('table')).toBe('other')
    // The new shape says why it waits, and until when.
    await statusWhere(second, (status) => status.phase === 'retrying' && status.nextRetryAt !== undefined)
    expect(second.getStatus().error?.name).toBe('FetchError')
    clock.advance(4_899)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(server.requests.filter((request) => request.params.get('table') === 'items')).toHaveLength(1)
    clock.advance(1)
    const again = await server.nextRequest()
    expect(again.params.get('table')).toBe('items')
    expect(again.params.get('offset')).toBe('-1')
    again.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await second.whenUpToDate()
    expect(second.getStatus().error).toBeUndefined()
    releaseSecond()
    releaseOther()
  })

  it('a retry-after whose response was still being read when its shape closed holds back the next shape too', async () => {
    const { client, server, clock } = setup(100)
    const first = client.shape(items())
    const release = first.retain()
    // Headers arrive, the body never ends: the stream is still reading the 503 when its consumer leaves.
    const never = new ReadableStream<Uint8Array>({ start() {} })
    ;(await server.nextRequest()).respond(new Response(never, { status: 503, headers: { 'retry-after': '5' } }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    clock.advance(100)
    expect(first.isClosed).toBe(true)

    const second = client.shape(items())
    const releaseSecond = second.retain()
    await statusWhere(second, (status) => status.phase === 'retrying' && status.nextRetryAt !== undefined)
    clock.advance(4_800)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(server.requests).toHaveLength(1)
    clock.advance(200)
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    releaseSecond()
  })

  it('retryNow() ends the wait of a new shape held back by an earlier retry-after', async () => {
    const { client, server } = setup(100)
    const first = client.shape(items())
    const release = first.retain()
    ;(await server.nextRequest()).respond(new Response('{"message":"busy"}', { status: 503, headers: { 'retry-after': '30' } }))
    await statusWhere(first, (status) => status.nextRetryAt !== undefined)
    release()
    await first.close()
    const second = client.shape(items())
    expect(second).not.toBe(first)
    const releaseSecond = second.retain()
    await statusWhere(second, (status) => status.phase === 'retrying' && status.nextRetryAt !== undefined)
    expect(second.retryNow()).toBe(true)
    const asked = await server.nextRequest()
    expect(asked.params.get('offset')).toBe('-1')
    releaseSecond()
  })

  it('retryNow() ends the wait of the stream that heard a retry-after at once: the hold is for later streams only', async () => {
    const { client, server } = setup()
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(new Response('{"message":"busy"}', { status: 503, headers: { 'retry-after': '15' } }))
    await statusWhere(shape, (status) => status.nextRetryAt !== undefined)
    expect(shape.retryNow()).toBe(true)
    // No clock advance: the retry goes out on the next turns of the event loop, not 15 s later.
    const retried = await server.nextRequest()
    expect(retried.params.get('offset')).toBe('-1')
    retried.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await shape.whenUpToDate()
    release()
  })

  it('evicts a shape nobody ever retained after unusedTimeoutMs (an abandoned render), and a retain keeps it', async () => {
    const { server, clock } = setup()
    const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.5, visibility: null, unusedTimeoutMs: 10_000 })
    const abandoned = client.shape(items())
    const used = client.shape({ url, params: { table: 'other' } })
    clock.advance(5_000)
    const release = used.retain()
    await server.nextRequest()
    clock.advance(5_000)
    expect(abandoned.isClosed).toBe(true)
    expect(client.find(items())).toBeUndefined()
    expect(client.size).toBe(1)
    clock.advance(60_000)
    expect(used.isClosed).toBe(false)
    release()
    clock.advance(3_000)
    expect(client.size).toBe(0)
    expect(server.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)
  })

  it('never evicts an unused shape sooner than the grace period', () => {
    const { server, clock } = setup()
    const client = new ShapeClient({ fetch: server.fetch, clock, visibility: null, gracePeriodMs: 5_000, unusedTimeoutMs: 1 })
    const shape = client.shape(items())
    clock.advance(4_999)
    expect(shape.isClosed).toBe(false)
    clock.advance(1)
    expect(shape.isClosed).toBe(true)
  })

  it('reopens a closed shape that is retained again, resuming from its position', async () => {
    const { client, server, clock } = setup(0)
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'a')] }))
    await shape.whenUpToDate()
    await server.nextRequest()
    release()
    expect(client.size).toBe(0)
    const releaseAgain = shape.retain()
    expect(client.shape(items())).toBe(shape)
    const resumed = await server.nextRequest()
    expect(resumed.params.get('offset')).toBe('0_inf')
    expect(resumed.params.has('live')).toBe(false)
    releaseAgain()
    expect(clock.pendingTimers).toBe(0)
    expect(server.inFlight).toBe(0)
  })

  it('publishes live changes to subscribers and status to status subscribers', async () => {
    const { client, server } = setup()
    const shape = client.shape(items())
    let notified = 0
    shape.subscribe(() => notified++)
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await statusWhere(shape, (s) => s.phase === 'live')
    ;(await server.nextRequest()).respond(
      liveResponse({ requestOffset: '0_inf', offset: '5_0', cursor: '20', lsn: '5', messages: [change({ operation: 'insert', id: 7, title: 'new', lsn: '5', opPosition: 0, last: true })] }),
    )
    await server.nextRequest()
    expect(shape.getSnapshot().data).toEqual([{ id: 7, title: 'new' }])
    expect(notified).toBe(2)
    release()
    client.dispose()
  })

  it('dispose() aborts every stream, clears grace timers and refuses new shapes', async () => {
    const { client, server, clock } = setup()
    const a = client.shape(items())
    const b = client.shape({ url, params: { table: 'b' } })
    a.retain()
    b.retain()()
    await server.nextRequest()
    await server.nextRequest()
    expect(clock.pendingTimers).toBe(3) // b's grace timer and both requests' deadlines
    client.dispose()
    expect(server.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    expect(client.size).toBe(0)
    expect(() => client.shape(items())).toThrow(InvalidOptionsError)
    await expect(a.whenUpToDate()).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('whenUpToDate on a shape that never started rejects when it closes (unused timeout, dispose) instead of hanging', async () => {
    const { client, clock } = setup()
    const evicted = client.shape(items())
    const disposed = client.shape({ url, params: { table: 'b' } })
    const first = evicted.whenUpToDate()
    const second = disposed.whenUpToDate()
    clock.advance(30_000)
    expect(evicted.isClosed).toBe(true)
    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    client.dispose()
    await expect(second).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('names the configured live transport in the status before the stream starts (SSR renders what the browser will)', () => {
    const { client } = setup()
    expect(client.shape({ ...items(), liveSse: true }).getStatus()).toMatchObject({ phase: 'idle', transport: 'sse' })
    expect(client.shape(items()).getStatus()).toMatchObject({ phase: 'idle', transport: 'long-poll' })
  })

  it('uses SSE for live requests when liveSse is on (default runner), long-poll before that', async () => {
    const server = new FakeShapeServer()
    const clock = new ManualClock()
    const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.5, visibility: null, liveSse: true })
    const shape = client.shape(items())
    const release = shape.retain()
    const initial = await server.nextRequest()
    expect(initial.params.has('live_sse')).toBe(false)
    expect(shape.getStatus().transport).toBe('sse')
    initial.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    const sse = await server.nextRequest()
    expect(sse.params.get('live')).toBe('true')
    expect(sse.params.get('live_sse')).toBe('true')
    expect(sse.params.get('experimental_live_sse')).toBe('true')
    expect(sse.headers.accept).toBe('text/event-stream')
    const events = [change({ operation: 'insert', id: 3, title: 'pushed', lsn: '8', opPosition: 0, last: true }), upToDate('8')]
    sse.respond(
      new Response(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join(''), {
        status: 200,
        headers: {
          'content-type': 'text/event-stream',
          'cache-control': 'public, max-age=59',
          'electric-handle': HANDLE,
          'electric-offset': '0_inf',
          'electric-cursor': '20',
          'electric-has-data': 'true',
        },
      }),
    )
    await statusWhere(shape, (s) => s.offset === '8_0')
    expect(shape.getSnapshot().data).toEqual([{ id: 3, title: 'pushed' }])
    expect(shape.getStatus()).toMatchObject({ phase: 'live', transport: 'sse', cursor: '20' })
    release()
    client.dispose()
    expect(clock.pendingTimers).toBe(0)
    expect(server.inFlight).toBe(0)
  })
})
