import { describe, it, expect, afterEach } from 'vitest'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { FetchError, NetworkError, ShapeClient, ShapeRequestError } from '../../src/core/index'
import type { ShapeStatus } from '../../src/core/index'
import { ShapeClientProvider, useShape, useShapeStatus } from '../../src/react/index'
import type { UseShapeResult } from '../../src/react/index'
import { createManualClock } from './support/manualClock'
import { errorResponse, scriptedFetch, snapshotResponse } from './support/scriptedFetch'
import type { Item } from './support/harness'

const URL_ = 'http://shapes.test/v1/shape'
let client: ShapeClient | undefined
afterEach(() => {
  cleanup()
  client?.dispose()
})

function setup() {
  const script = scriptedFetch()
  const clock = createManualClock()
  client = new ShapeClient({ fetch: script.fetch, clock, random: () => 0.5, visibility: null })
  const seen: { status: ShapeStatus[]; result: UseShapeResult<Item>[] } = { status: [], result: [] }
  function Probe() {
    const result = useShape<Item>({ url: URL_, params: { table: 'items' } })
    const status = useShapeStatus(result.shape)
    if (seen.status.at(-1) !== status) seen.status.push(status)
    if (seen.result.at(-1) !== result) seen.result.push(result)
    return <p>{`${status.phase}:${result.data.length}:${result.error === false ? 'no-error' : result.error.constructor.name}`}</p>
  }
  const c = client
  render(
    <ShapeClientProvider client={c}>
      <Probe />
    </ShapeClientProvider>,
  )
  return { script, clock, seen }
}

describe('useShapeStatus and errors in useShape', () => {
  it('never renders idle for a shape a component holds: its first render already says connecting', () => {
    const { seen } = setup()
    expect(seen.status.length).toBeGreaterThan(0)
    expect(seen.status.map((status) => status.phase)).not.toContain('idle')
    expect(seen.status[0]?.phase).toBe('connecting')
  })

  it('goes connecting → live on the first up-to-date, with long-poll transport and lastSyncedAt', async () => {
    const { script, clock, seen } = setup()
    expect(screen.getByText('connecting:0:no-error')).toBeTruthy()
    const first = await script.next()
    expect(first.url.searchParams.get('offset')).toBe('-1')
    act(() => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('live:1:no-error')
    const last = seen.status.at(-1)
    expect(last).toMatchObject({ phase: 'live', transport: 'long-poll', fallbackReason: undefined, error: undefined, isUpToDate: true })
    expect(last?.lastSyncedAt).toBe(clock.now())
    expect(seen.result.at(-1)?.lastSyncedAt).toBe(clock.now())
    expect(seen.result[0]).toMatchObject({ isLoading: true, isError: false, error: false, lastSyncedAt: undefined })
  })

  it('reports a network error with its next retry time, then recovers when the stream does', async () => {
    const { script, clock, seen } = setup()
    const first = await script.next()
    act(() => first.fail(new TypeError('fetch failed')))
    await screen.findByText('retrying:0:NetworkError')
    const failing = seen.status.at(-1)
    expect(failing?.error).toBeInstanceOf(NetworkError)
    expect(failing?.nextRetryAt).toBeGreaterThan(clock.now())
    expect(seen.result.at(-1)).toMatchObject({ isError: true, isLoading: true })
    act(() => clock.advance((failing?.nextRetryAt ?? 0) - clock.now()))
    const retry = await script.next()
    expect(retry.url.searchParams.get('offset')).toBe('-1')
    act(() => retry.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('live:1:no-error')
    expect(seen.status.at(-1)).toMatchObject({ error: undefined, nextRetryAt: undefined })
    expect(seen.result.at(-1)).toMatchObject({ isError: false, error: false, isLoading: false })
  })

  it('gives a 400 as a ShapeRequestError carrying the server messages', async () => {
    const { script } = setup()
    const first = await script.next()
    act(() => first.respond(errorResponse(400, { message: 'Invalid request', errors: { where: ['unknown column "nope"'] } })))
    await screen.findByText('error:0:ShapeRequestError')
  })

  it('gives 401 and 403 as FetchError with their status, not retried', async () => {
    for (const status of [401, 403]) {
      const { script, clock, seen } = setup()
      const first = await script.next()
      act(() => first.respond(errorResponse(status, { message: 'nope' })))
      await screen.findByText('error:0:FetchError')
      const error = seen.result.at(-1)?.error
      expect(error).toBeInstanceOf(FetchError)
      expect(error).not.toBeInstanceOf(ShapeRequestError)
      expect((error as FetchError).status).toBe(status)
      expect(seen.status.at(-1)?.nextRetryAt).toBeUndefined()
      act(() => clock.advance(60_000))
      expect(script.waiting).toBe(0)
      cleanup()
      client?.dispose()
    }
  })
})

describe('a hook that does not hold the stream', () => {
  it('says idle, not connecting, once subscribe: false let the stream go, and for an aborted signal nobody else holds', async () => {
    const script = scriptedFetch()
    const clock = createManualClock()
    client = new ShapeClient({ fetch: script.fetch, clock, random: () => 0.5, visibility: null })
    const aborted = new AbortController()
    aborted.abort()
    function Probe() {
      const once = { url: URL_, params: { table: 'items' }, subscribe: false }
      const result = useShape<Item>(once)
      const status = useShapeStatus(once)
      const released = useShapeStatus({ url: URL_, params: { table: 'other' }, signal: aborted.signal })
      return <p>{`${status.phase}:${result.data.length}:${released.phase}`}</p>
    }
    render(
      <ShapeClientProvider client={client}>
        <Probe />
      </ShapeClientProvider>,
    )
    // Before its first up-to-date the hook holds the stream: connecting.
    expect(screen.getByText('connecting:0:idle')).toBeTruthy()
    const first = await script.next()
    act(() => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('live:1:idle')
    // The grace period closes the stream nobody holds any more: nothing is connecting (before: 'connecting' for ever).
    act(() => clock.advance(60_000))
    await screen.findByText('idle:1:idle')
    expect(script.waiting).toBe(0)
  })
})

describe('400 details', () => {
  it('keeps the server field messages on the error the hook returns', async () => {
    const { script, seen } = setup()
    const first = await script.next()
    act(() => first.respond(errorResponse(400, { message: 'Invalid request', errors: { where: ['unknown column "nope"'] } })))
    await waitFor(() => expect(seen.result.at(-1)?.isError).toBe(true))
    const error = seen.result.at(-1)?.error
    expect(error).toBeInstanceOf(ShapeRequestError)
    expect((error as ShapeRequestError).errors).toEqual({ where: ['unknown column "nope"'] })
    expect((error as ShapeRequestError).message).toContain('unknown column "nope"')
  })
})

describe('onError', () => {
  it('gets the typed error, and an inline onError that returns new headers recovers the stream', async () => {
    const script = scriptedFetch()
    const clock = createManualClock()
    client = new ShapeClient({ fetch: script.fetch, clock, random: () => 0.5, visibility: null })
    const errors: unknown[] = []
    let token = 'old'
    function Probe() {
      const result = useShape<Item>({
        url: URL_,
        params: { table: 'items' },
        headers: { authorization: 'Bearer old' },
        onError: (error) => {
          errors.push(error)
          token = 'new'
          return { headers: { authorization: `Bearer ${token}` } }
        },
      })
      return <p>{`${result.data.length}:${result.isError ? 'error' : 'ok'}`}</p>
    }
    const c = client
    render(
      <ShapeClientProvider client={c}>
        <Probe />
      </ShapeClientProvider>,
    )
    const first = await script.next()
    expect(first.headers.get('authorization')).toBe('Bearer old')
    act(() => first.respond(errorResponse(401, { message: 'expired' })))
    await waitFor(() => expect(errors).toHaveLength(1))
    // A recovery returned by onError is retried after a backoff delay, on the client's clock.
    await waitFor(() => expect(clock.pending).toBe(1))
    act(() => clock.advance(60_000))
    const retry = await script.next()
    expect(retry.url.searchParams.get('offset')).toBe('-1')
    expect(errors[0]).toBeInstanceOf(FetchError)
    expect((errors[0] as FetchError).status).toBe(401)
    act(() => retry.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('1:ok')
    expect(client.size).toBe(1)
  })
})

describe('paused and refetching', () => {
  function setupWithVisibility() {
    const script = scriptedFetch()
    const clock = createManualClock()
    let hidden = false
    const listeners = new Set<() => void>()
    const visibility = {
      isHidden: () => hidden,
      subscribe(listener: () => void) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    }
    client = new ShapeClient({ fetch: script.fetch, clock, random: () => 0.5, visibility })
    function Probe() {
      const result = useShape<Item>({ url: URL_, params: { table: 'items' } })
      const status = useShapeStatus(result.shape)
      return <p data-testid="probe">{`${status.phase}:${result.data.length}`}</p>
    }
    const c = client
    render(
      <ShapeClientProvider client={c}>
        <Probe />
      </ShapeClientProvider>,
    )
    const setHidden = (value: boolean): void => {
      hidden = value
      for (const listener of listeners) listener()
    }
    return { script, setHidden }
  }

  it('is paused while the page is hidden and live again after the catch-up', async () => {
    const { script, setHidden } = setupWithVisibility()
    const first = await script.next()
    act(() => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    const live = await script.next()
    await screen.findByText('live:1')
    act(() => setHidden(true))
    await screen.findByText('paused:1')
    expect(live.signal?.aborted).toBe(true)
    act(() => setHidden(false))
    const catchUp = await script.next()
    expect(catchUp.live).toBe(false)
    expect(catchUp.url.searchParams.get('offset')).toBe('0_0')
    act(() => catchUp.respond(snapshotResponse([])))
    await screen.findByText('live:1')
  })

  it('is refetching after a 409 until the new handle is up to date, keeping the rows on screen', async () => {
    const { script } = setupWithVisibility()
    const first = await script.next()
    act(() => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }, { id: 2, title: 'b', done: false }])))
    const live = await script.next()
    await screen.findByText('live:2')
    act(() => live.respond(new Response('[{"headers":{"control":"must-refetch"}}]', { status: 409, headers: { 'electric-handle': 'h-2' } })))
    const refetch = await script.next()
    expect(refetch.url.searchParams.get('offset')).toBe('-1')
    expect(refetch.url.searchParams.get('handle')).toBe('h-2')
    await screen.findByText('refetching:2')
    act(() => refetch.respond(snapshotResponse([{ id: 3, title: 'c', done: false }], 'h-2')))
    await screen.findByText('live:1')
  })
})
