import { describe, expect, it, vi } from 'vitest'
import {
  FetchError,
  InvalidOptionsError,
  MalformedResponseError,
  MalformedSchemaError,
  MissingHeadersError,
  NullValueError,
  ReservedParamError,
  ShapeRequestError,
} from '../../src/core/errors'
import type { LiveRequestRunner, LiveRunRequest, LiveRunSink } from '../../src/core/liveRunner'
import { MAX_ON_ERROR_RETRIES } from '../../src/core/retryPolicy'
import {
  badRequestResponse,
  catchUpResponse,
  change,
  HANDLE,
  keyOf,
  liveResponse,
  mustRefetchResponse,
  rawResponse,
  serverErrorResponse,
  snapshotEnd,
  snapshotResponse,
  snapshotRow,
  upToDate,
} from './support/fakeShapeServer'
import { fakeVisibility } from './support/fakeAdapters'
import { statusWhere, streamHarness } from './support/streamHarness'

const SCHEMA_HEADER = JSON.stringify({ id: { type: 'int4', pk_index: 0, not_null: true }, title: { type: 'text' } })

describe('ShapeStream: a long-poll session', () => {
  it('syncs a chunked snapshot, catches up, goes live and applies changes', async () => {
    const { server, store, stream, statuses } = streamHarness()
    stream.start()
    const first = await server.nextRequest()
    expect(first.url.search).toBe('?log=full&offset=-1&table=items')
    expect(stream.getStatus().phase).toBe('connecting')
    first.respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotRow(1, 'one'), snapshotRow(2, 'two')] }))

    const second = await server.nextRequest()
    expect(second.url.search).toBe(`?handle=${HANDLE}&log=full&offset=0_0&table=items`)
    expect(stream.getStatus().phase).toBe('syncing')
    second.respond(snapshotResponse({ requestOffset: '0_0', offset: '0_1', messages: [snapshotRow(3, null), snapshotEnd()] }))

    const third = await server.nextRequest()
    expect(Object.fromEntries(third.params)).toEqual({ handle: HANDLE, log: 'full', offset: '0_1', table: 'items' })
    expect(store.getSnapshot().rows.size).toBe(0)
    const upToDatePromise = stream.whenUpToDate()
    third.respond(catchUpResponse({ requestOffset: '0_1', offset: '0_inf', lsn: '1000', messages: [] }))
    await upToDatePromise

    expect(store.getSnapshot().data).toEqual([
      { id: 1, title: 'one' },
      { id: 2, title: 'two' },
      { id: 3, title: null },
    ])
    expect(stream.getStatus()).toMatchObject({ phase: 'live', isUpToDate: true, handle: HANDLE, offset: '0_inf', transport: 'long-poll' })

    const live = await server.nextRequest()
    expect(Object.fromEntries(live.params)).toEqual({ handle: HANDLE, live: 'true', log: 'full', offset: '0_inf', table: 'items' })
    live.respond(
      liveResponse({
        requestOffset: '0_inf',
        offset: '1200_4',
        cursor: '40',
        lsn: '1200',
        messages: [
          change({ operation: 'insert', id: 4, title: 'four', lsn: '1200', opPosition: 0 }),
          change({ operation: 'update', id: 1, title: 'uno', lsn: '1200', opPosition: 2 }),
          change({ operation: 'delete', id: 2, lsn: '1200', opPosition: 4, last: true }),
        ],
      }),
    )
    const next = await server.nextRequest()
    expect(Object.fromEntries(next.params)).toEqual({ cursor: '40', handle: HANDLE, live: 'true', log: 'full', offset: '1200_4', table: 'items' })
    expect(store.getSnapshot().data).toEqual([
      { id: 1, title: 'uno' },
      { id: 3, title: null },
      { id: 4, title: 'four' },
    ])
    expect(stream.getStatus()).toMatchObject({ phase: 'live', offset: '1200_4', cursor: '40' })
    expect(statuses.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1])).toEqual(['connecting', 'syncing', 'live'])
    stream.stop()
  })

  it('syncs an empty table', async () => {
    const { server, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotEnd()] }))
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '0_0', offset: '0_inf', lsn: '5', messages: [] }))
    await stream.whenUpToDate()
    expect(store.getSnapshot()).toMatchObject({ isUpToDate: true, data: [] })
    expect(stream.getStatus().phase).toBe('live')
    stream.stop()
  })

  it('keeps a no-change live timeout at the same offset and takes the new cursor', async () => {
    const { server, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'a')] }))
    await stream.whenUpToDate()
    const version = store.getSnapshot().version
    ;(await server.nextRequest()).respond(liveResponse({ requestOffset: '0_inf', offset: '0_inf', cursor: '20', lsn: '5', messages: [] }))
    const next = await server.nextRequest()
    expect(next.params.get('offset')).toBe('0_inf')
    expect(next.params.get('cursor')).toBe('20')
    expect(store.getSnapshot().version).toBe(version)
    stream.stop()
  })
})

describe('ShapeStream: 304 Not Modified', () => {
  it('treats a live 304 as no change at the same offset', async () => {
    const { server, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'a')] }))
    await stream.whenUpToDate()
    const before = store.getSnapshot()
    ;(await server.nextRequest()).respond(new Response(null, { status: 304, headers: { 'electric-cursor': '80' } }))
    const next = await server.nextRequest()
    expect(Object.fromEntries(next.params)).toEqual({ cursor: '80', handle: HANDLE, live: 'true', log: 'full', offset: '0_inf', table: 'items' })
    expect(store.getSnapshot()).toBe(before)
    expect(stream.getStatus().phase).toBe('live')
    stream.stop()
  })

  it('backs off on a non-live 304 instead of repeating the same request at once', async () => {
    const { server, clock, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(new Response(null, { status: 304 }))
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error).toBeInstanceOf(MalformedResponseError)
    clock.advance(500)
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    stream.stop()
  })
})

describe('ShapeStream: no hot loops', () => {
  it('backs off when a non-live response does not advance and is not up to date', async () => {
    const { server, clock, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotRow(1, 'a')] }))
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '0_0', offset: '0_0', messages: [snapshotRow(1, 'again')] }))
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error).toBeInstanceOf(MalformedResponseError)
    expect(status.offset).toBe('0_0')
    expect(server.requests).toHaveLength(2)
    clock.advance(500)
    const retry = await server.nextRequest()
    expect(retry.params.get('offset')).toBe('0_0')
    retry.respond(catchUpResponse({ requestOffset: '0_0', offset: '0_inf', lsn: '2', messages: [] }))
    await stream.whenUpToDate()
    expect(store.getSnapshot().data).toEqual([{ id: 1, title: 'a' }])
    stream.stop()
  })
})

describe('ShapeStream: 409 must-refetch', () => {
  it('restarts from -1 in the middle of a chunked snapshot, at once, with a cache buster and the expired handle', async () => {
    const { server, clock, store, stream, statuses } = streamHarness({ requestTimeoutMs: 0 })
    const reset = vi.spyOn(store, 'reset')
    stream.start()
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotRow(1, 'stale')] }))
    ;(await server.nextRequest()).respond(mustRefetchResponse('handle-2'))

    const retry = await server.nextRequest()
    expect(reset).toHaveBeenCalledTimes(1)
    expect(clock.delays).toEqual([])
    expect(retry.params.get('offset')).toBe('-1')
    expect(retry.params.get('handle')).toBe('handle-2')
    expect(retry.params.get('expired_handle')).toBe(HANDLE)
    expect(retry.params.get('cache-buster')).toMatch(/^\d+-[0-9a-z]+$/)
    expect(retry.params.has('live')).toBe(false)
    expect(stream.getStatus()).toMatchObject({ phase: 'refetching', handle: 'handle-2', offset: '-1', cursor: undefined })

    retry.respond(snapshotResponse({ handle: 'handle-2', requestOffset: '-1', offset: '0_0', messages: [snapshotRow(9, 'fresh'), snapshotEnd()] }))
    const catchUp = await server.nextRequest()
    expect(catchUp.params.has('cache-buster')).toBe(false)
    catchUp.respond(catchUpResponse({ handle: 'handle-2', requestOffset: '0_0', offset: '0_inf', lsn: '9', messages: [] }))
    await stream.whenUpToDate()
    expect(store.getSnapshot().data).toEqual([{ id: 9, title: 'fresh' }])
    expect(statuses.some((s) => s.phase === 'refetching')).toBe(true)
    expect(stream.getStatus().phase).toBe('live')
    stream.stop()
  })

  it('keeps showing the old rows after a live 409 until the new snapshot is up to date', async () => {
    const { server, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '5', messages: [snapshotRow(1, 'old')] }))
    await stream.whenUpToDate()
    ;(await server.nextRequest()).respond(mustRefetchResponse(undefined))
    const retry = await server.nextRequest()
    expect(retry.params.has('handle')).toBe(false)
    expect(store.getSnapshot().data).toEqual([{ id: 1, title: 'old' }])
    expect(stream.getStatus().isUpToDate).toBe(false)
    retry.respond(snapshotResponse({ handle: 'h3', requestOffset: '-1', offset: '0_0', messages: [snapshotRow(2, 'new'), snapshotEnd()] }))
    const catchUp = await server.nextRequest()
    expect(store.getSnapshot().data).toEqual([{ id: 1, title: 'old' }])
    catchUp.respond(catchUpResponse({ handle: 'h3', requestOffset: '0_0', offset: '0_inf', lsn: '6', messages: [] }))
    await server.nextRequest()
    expect(store.getSnapshot().data).toEqual([{ id: 2, title: 'new' }])
    stream.stop()
  })
})

describe('ShapeStream: non-retryable errors', () => {
  it('reports a 400 as ShapeRequestError and retries from the same position with the headers onError returns', async () => {
    const onError = vi.fn((_error: unknown) => ({ headers: { Authorization: 'Bearer fresh' } }))
    const { server, clock, store, stream } = streamHarness({ headers: { Authorization: 'Bearer stale' }, onError })
    stream.start()
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotRow(1, 'a')] }))
    const second = await server.nextRequest()
    expect(second.headers).toEqual({ authorization: 'Bearer stale' })
    const before = store.getSnapshot()
    second.respond(badRequestResponse({ where: ['unknown column'] }))

    const status = await statusWhere(stream, (s) => s.phase === 'error')
    expect(status.error).toBeInstanceOf(ShapeRequestError)
    expect((status.error as ShapeRequestError).errors).toEqual({ where: ['unknown column'] })
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1))
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0]?.[0]).toBe(status.error)
    expect(clock.delays.at(-1)).toBe(500) // random 0.5 × 1000: the first onError retry's jitter
    // onError asked for a retry: from now on the stream retries by itself, which the status says (not 'error').
    expect(stream.getStatus()).toMatchObject({ phase: 'retrying', nextRetryAt: clock.now() + 500, error: status.error })
    clock.advance(500)

    const retry = await server.nextRequest()
    expect(retry.headers).toEqual({ authorization: 'Bearer fresh' })
    expect(retry.params.get('offset')).toBe('0_0')
    expect(retry.params.get('handle')).toBe(HANDLE)
    expect(store.getSnapshot()).toBe(before)
    retry.respond(catchUpResponse({ requestOffset: '0_0', offset: '0_inf', lsn: '5', messages: [] }))
    await stream.whenUpToDate()
    expect(stream.getStatus()).toMatchObject({ phase: 'live', error: undefined })
    stream.stop()
  })

  it('merges the params onError returns into later requests', async () => {
    const onError = vi.fn(() => ({ params: { tenant: 'fixed' } }))
    const { server, clock, stream } = streamHarness({ params: { table: 'items', tenant: 'broken' }, onError, random: () => 0, requestTimeoutMs: 0 })
    stream.start()
    const first = await server.nextRequest()
    expect(first.params.get('tenant')).toBe('broken')
    first.respond(new Response('{"message":"Forbidden"}', { status: 403 }))
    const retry = await server.nextRequest()
    expect(retry.params.get('tenant')).toBe('fixed')
    expect(retry.params.get('table')).toBe('items')
    expect(clock.pendingTimers).toBe(0)
    stream.stop()
  })

  it('stops on a 401 without onError: typed error in status and whenUpToDate, no retry, no timer', async () => {
    const { server, clock, stream } = streamHarness()
    stream.start()
    const waiting = stream.whenUpToDate()
    ;(await server.nextRequest()).respond(new Response('{"message":"Unauthorized - Invalid API secret"}', { status: 401 }))
    const error = await waiting.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(FetchError)
    expect((error as FetchError).status).toBe(401)
    expect(stream.getStatus()).toMatchObject({ phase: 'error', error, nextRetryAt: undefined })
    expect(clock.pendingTimers).toBe(0)
    expect(server.requests).toHaveLength(1)
    await expect(stream.whenUpToDate()).rejects.toBe(error)
  })

  it(`gives up after ${MAX_ON_ERROR_RETRIES} onError retries in a row`, async () => {
    const onError = vi.fn(() => ({}))
    const { server, stream } = streamHarness({ onError, random: () => 0 })
    stream.start()
    const waiting = stream.whenUpToDate()
    for (let i = 0; i <= MAX_ON_ERROR_RETRIES; i++) (await server.nextRequest()).respond(badRequestResponse({ table: ['nope'] }))
    await expect(waiting).rejects.toBeInstanceOf(ShapeRequestError)
    expect(onError).toHaveBeenCalledTimes(MAX_ON_ERROR_RETRIES + 1)
    expect(server.requests).toHaveLength(MAX_ON_ERROR_RETRIES + 1)
    expect(server.inFlight).toBe(0)
  })

  it('never retries MissingHeadersError, even when onError asks to', async () => {
    const onError = vi.fn(() => ({ headers: { X: '1' } }))
    const { server, clock, stream } = streamHarness({ onError })
    stream.start()
    const waiting = stream.whenUpToDate()
    ;(await server.nextRequest()).respond(rawResponse('[]', { 'electric-handle': HANDLE, 'electric-schema': SCHEMA_HEADER }))
    const error = await waiting.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MissingHeadersError)
    expect(onError).toHaveBeenCalledTimes(1)
    expect(stream.getStatus().phase).toBe('error')
    expect(clock.pendingTimers).toBe(0)
    expect(server.requests).toHaveLength(1)
  })

  it('sends a value the parser rejects to onError and leaves the store untouched', async () => {
    const onError = vi.fn(() => undefined)
    const { server, store, stream } = streamHarness({ onError })
    stream.start()
    const before = store.getSnapshot()
    ;(await server.nextRequest()).respond(
      catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [{ key: keyOf('x'), value: { id: null, title: 't' }, headers: { operation: 'insert' } }] }),
    )
    const status = await statusWhere(stream, (s) => s.phase === 'error')
    expect(status.error).toBeInstanceOf(NullValueError)
    expect(store.getSnapshot()).toBe(before)
    expect(store.getSnapshot().rows.size).toBe(0)
  })
})

describe('ShapeStream: retryable errors', () => {
  it('waits at least retry-after, then backs off with full jitter, without calling onError', async () => {
    const onError = vi.fn()
    const { server, clock, stream } = streamHarness({ onError })
    stream.start()
    const start = clock.now()
    ;(await server.nextRequest()).respond(serverErrorResponse(503, '10'))
    const backingOff = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(backingOff).toMatchObject({ phase: 'retrying', nextRetryAt: start + 10_000 })
    expect(backingOff.error).toMatchObject({ status: 503 })
    clock.advance(9_999)
    expect(server.requests).toHaveLength(1)
    clock.advance(1)
    const second = await server.nextRequest()
    expect(second.params.get('offset')).toBe('-1')
    expect(stream.getStatus()).toMatchObject({ phase: 'retrying', nextRetryAt: undefined })

    second.respond(serverErrorResponse(500))
    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(clock.delays.at(-1)).toBe(1000) // second attempt: 0.5 × 2000
    clock.advance(1000)
    ;(await server.nextRequest()).respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotEnd()] }))
    await statusWhere(stream, (s) => s.phase === 'syncing')
    ;(await server.nextRequest()).respond(serverErrorResponse(502))
    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(clock.delays.at(-1)).toBe(500) // a success resets the schedule
    expect(onError).not.toHaveBeenCalled()
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('retries a network failure', async () => {
    const { server, clock, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).fail(new TypeError('fetch failed'))
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error?.code).toBe('network')
    clock.advance(500)
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    stream.stop()
  })

  it.each([
    ['an invalid JSON body', '[{"key":', MalformedResponseError],
    ['a body that is not an array', '{"rows":[]}', MalformedResponseError],
  ])('treats %s as a typed, retryable error that leaves the store untouched', async (_name, body, ErrorType) => {
    const { server, clock, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'kept')] }))
    await stream.whenUpToDate()
    const before = store.getSnapshot()
    ;(await server.nextRequest()).respond(rawResponse(body, { 'electric-handle': HANDLE, 'electric-offset': '9_0', 'electric-cursor': '20' }))
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error).toBeInstanceOf(ErrorType)
    expect(status.offset).toBe('0_inf')
    expect(store.getSnapshot()).toBe(before)
    clock.advance(500)
    const retry = await server.nextRequest()
    expect(retry.params.get('offset')).toBe('0_inf')
    expect(retry.params.get('live')).toBe('true')
    stream.stop()
  })

  it.each([
    ['the connection drops', (controller: ReadableStreamDefaultController<Uint8Array>) => controller.error(new TypeError('terminated'))],
    ['the rest is not JSON', (controller: ReadableStreamDefaultController<Uint8Array>) => {
      controller.enqueue(new TextEncoder().encode('{"key":'))
      controller.close()
    }],
  ])('a snapshot chunk whose body fails after its first messages were staged leaves nothing behind when %s', async (_name, fail) => {
    const { server, clock, store, stream } = streamHarness()
    stream.start()
    // The first part holds whole messages (staged as it arrives), then the body fails.
    const part = JSON.stringify([snapshotRow(1, 'from the failed body'), snapshotRow(2, 'from the failed body')]).slice(0, -1) + ','
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(new TextEncoder().encode(part))
        else fail(controller)
      },
    })
    const headers = snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [] }).headers
    ;(await server.nextRequest()).respond(new Response(body, { status: 200, headers }))
    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    clock.advance(1000)
    const retry = await server.nextRequest()
    expect(retry.params.get('offset')).toBe('-1')
    retry.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(3, 'from the retry')] }))
    await stream.whenUpToDate()
    expect(store.getSnapshot().data).toEqual([{ id: 3, title: 'from the retry' }])
    stream.stop()
  })

  it('treats a malformed electric-schema header as a typed, retryable error', async () => {
    const { server, clock, store, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(
      rawResponse(JSON.stringify([snapshotRow(1, 'x'), snapshotEnd()]), { 'electric-handle': HANDLE, 'electric-offset': '0_0', 'electric-schema': '{"id":' }),
    )
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error).toBeInstanceOf(MalformedSchemaError)
    expect(status.offset).toBe('-1')
    expect(store.getSnapshot().rows.size).toBe(0)
    clock.advance(500)
    expect((await server.nextRequest()).params.get('offset')).toBe('-1')
    stream.stop()
  })

  it('gives up after maxRetries with RetriesExhaustedError', async () => {
    const { server, clock, stream } = streamHarness({ backoff: { maxRetries: 1 } })
    stream.start()
    const waiting = stream.whenUpToDate()
    ;(await server.nextRequest()).respond(serverErrorResponse(500))
    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    clock.advance(500)
    ;(await server.nextRequest()).respond(serverErrorResponse(500))
    const error = await waiting.catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'retries-exhausted', attempts: 2 })
    expect(clock.pendingTimers).toBe(0)
  })
})

describe('ShapeStream: options', () => {
  it('validates its options synchronously in the constructor', () => {
    expect(() => streamHarness({ params: { table: 'items', handle: 'h' } })).toThrow(ReservedParamError)
    expect(() => streamHarness({ params: { table: '' } })).toThrow(InvalidOptionsError)
  })

  it('resolves function-valued headers and params on every request', async () => {
    let token = 0
    const { server, stream } = streamHarness({
      headers: { Authorization: async () => `Bearer ${++token}` },
      params: { table: 'items', tenant: () => 'acme' },
    })
    stream.start()
    const first = await server.nextRequest()
    expect(first.headers.authorization).toBe('Bearer 1')
    expect(first.params.get('tenant')).toBe('acme')
    first.respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [] }))
    expect((await server.nextRequest()).headers.authorization).toBe('Bearer 2')
    stream.stop()
  })
})

describe('ShapeStream: abort, stop and visibility', () => {
  it('aborting the signal interrupts the request in flight and leaves nothing behind', async () => {
    const controller = new AbortController()
    const { server, clock, stream } = streamHarness({ signal: controller.signal })
    stream.start()
    const request = await server.nextRequest()
    controller.abort()
    expect(request.signal.aborted).toBe(true)
    expect(server.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)
    expect(stream.getStatus().phase).toBe('idle')
    stream.start()
    expect(stream.getStatus().phase).toBe('idle')
  })

  it('stop() during a backoff clears its timer and sends nothing more', async () => {
    const { server, clock, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(serverErrorResponse(500))
    await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(clock.pendingTimers).toBe(1)
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
    clock.advance(60_000)
    await Promise.resolve()
    expect(server.requests).toHaveLength(1)
    expect(stream.getStatus().phase).toBe('idle')
  })

  it('a restarted stream resumes from its position with a catch-up request', async () => {
    const { server, stream } = streamHarness()
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await server.nextRequest()
    stream.stop()
    stream.start()
    const resumed = await server.nextRequest()
    expect(Object.fromEntries(resumed.params)).toEqual({ handle: HANDLE, log: 'full', offset: '0_inf', table: 'items' })
    stream.stop()
  })

  it('pauses when hidden (aborting the long-poll) and catches up non-live when visible again', async () => {
    const { visibility, setHidden, listeners } = fakeVisibility()
    const { server, clock, stream } = streamHarness({ visibility })
    stream.start()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    const live = await server.nextRequest()
    expect(live.params.get('live')).toBe('true')

    setHidden(true)
    expect(live.signal.aborted).toBe(true)
    expect(stream.getStatus().phase).toBe('paused')
    expect(server.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)

    setHidden(false)
    const catchUp = await server.nextRequest()
    expect(catchUp.params.has('live')).toBe(false)
    expect(catchUp.params.get('offset')).toBe('0_inf')
    expect(stream.getStatus().phase).toBe('syncing')
    catchUp.respond(catchUpResponse({ requestOffset: '0_inf', offset: '7_0', lsn: '7', messages: [change({ operation: 'insert', id: 5, title: 'e', lsn: '7', opPosition: 0, last: true })] }))
    const liveAgain = await server.nextRequest()
    expect(liveAgain.params.get('live')).toBe('true')
    expect(liveAgain.params.get('offset')).toBe('7_0')
    stream.stop()
    expect(listeners.size).toBe(0)
  })
})

describe('ShapeStream: staging across stop and pause (responseApplier.ts: what a response staged is settled exactly once)', () => {
  it.each(['stop', 'pause'] as const)('%s settles what the response being read staged at once, before the read unwinds', async (how) => {
    const { visibility, setHidden } = fakeVisibility()
    const { server, store, stream } = streamHarness({ visibility })
    stream.start()
    const request = await server.nextRequest()
    const headers = snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [] }).headers
    let staged!: () => void
    const wasStaged = new Promise<void>((resolve) => (staged = resolve))
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // Whole messages then an open body: the first group is staged, the read waits for more.
        controller.enqueue(new TextEncoder().encode(JSON.stringify([snapshotRow(1, 'a'), snapshotRow(2, 'b')]).slice(0, -1) + ','))
        request.signal.addEventListener('abort', () => setTimeout(() => controller.error(request.signal.reason), 0))
      },
      pull() {
        staged()
        return new Promise(() => undefined)
      },
    })
    request.respond(new Response(body, { status: 200, headers }))
    await wasStaged
    await vi.waitFor(() => expect(() => store.reset()).toThrow(/settle/))
    if (how === 'stop') stream.stop()
    else setHidden(true)
    // Nothing staged is left: a hydration right now may reset the store.
    expect(() => store.reset()).not.toThrow()
    store.applyBatch([upToDate('1')])
    expect(store.getSnapshot().rows.size).toBe(0)
    stream.stop()
  })
})

describe('ShapeStream: live request watchdog', () => {
  it('abandons a live long-poll unanswered for liveRequestTimeoutMs and retries it', async () => {
    const { server, clock, stream } = streamHarness({ liveRequestTimeoutMs: 45_000, requestTimeoutMs: 0 })
    stream.start()
    const initial = await server.nextRequest()
    expect(clock.pendingTimers).toBe(0)
    initial.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    const hung = await server.nextRequest()
    expect(clock.pendingTimers).toBe(1)
    clock.advance(44_999)
    expect(hung.signal.aborted).toBe(false)
    clock.advance(1)
    expect(hung.signal.aborted).toBe(true)
    const status = await statusWhere(stream, (s) => s.nextRetryAt !== undefined)
    expect(status.error?.code).toBe('network')
    clock.advance(500)
    const retry = await server.nextRequest()
    expect(Object.fromEntries(retry.params)).toMatchObject({ live: 'true', offset: '0_inf', handle: HANDLE })
    retry.respond(liveResponse({ requestOffset: '0_inf', offset: '0_inf', cursor: '20', lsn: '1', messages: [] }))
    await statusWhere(stream, (s) => s.phase === 'live')
    stream.stop()
    expect(clock.pendingTimers).toBe(0)
  })
})

describe('ShapeStream: live runner seam', () => {
  function fakeRunner(script: (request: LiveRunRequest, sink: LiveRunSink) => Promise<void>) {
    let enabled = true
    const requests: LiveRunRequest[] = []
    const runner: LiveRequestRunner = {
      transport: 'sse',
      extraParams: { live_sse: 'true', experimental_live_sse: 'true' },
      isEnabled: () => enabled,
      fallbackReason: () => (enabled ? undefined : 'short connections'),
      run: async (request, sink) => {
        requests.push(request)
        await script(request, sink)
        return { kind: 'closed', durationMs: 1500, aborted: false }
      },
    }
    return { runner, requests, disable: () => (enabled = false) }
  }

  it('uses the runner for live requests only, applies its batches and reports the transport', async () => {
    const fake = fakeRunner(async (_request, sink) => {
      sink.onOpen({ kind: 'ok', status: 200, handle: HANDLE, offset: '0_inf', cursor: '60', schema: undefined, upToDate: false, hasData: true })
      sink.onBatch({ messages: [change({ operation: 'insert', id: 2, title: 'sse', lsn: '30', opPosition: 0, last: true }), upToDate('30')], offset: '30_0' })
      fake.disable()
    })
    const { server, store, stream } = streamHarness({ liveRunner: fake.runner })
    stream.start()
    const initial = await server.nextRequest()
    expect(initial.params.has('live_sse')).toBe(false)
    initial.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'a')] }))

    const fallback = await server.nextRequest()
    expect(fake.requests).toHaveLength(1)
    const sseUrl = new URL(fake.requests[0]!.url)
    expect(sseUrl.searchParams.get('live_sse')).toBe('true')
    expect(sseUrl.searchParams.get('live')).toBe('true')
    expect([...sseUrl.searchParams.keys()]).toEqual([...sseUrl.searchParams.keys()].sort())
    expect(store.getSnapshot().data).toEqual([
      { id: 1, title: 'a' },
      { id: 2, title: 'sse' },
    ])
    expect(fallback.params.get('offset')).toBe('30_0')
    expect(fallback.params.get('cursor')).toBe('60')
    expect(fallback.params.has('live_sse')).toBe(false)
    expect(stream.getStatus()).toMatchObject({ transport: 'long-poll', fallbackReason: 'short connections' })
    stream.stop()
  })
})
