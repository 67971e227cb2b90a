/**
 * A client with only `persist: { storage: window.localStorage }` in a DOM: the default adapters are the browser's, so
 * `pagehide` writes what the throttle holds, `navigator.onLine` shows as `status.offline`, the `online` event ends a
 * backoff wait at once, and `localStorage` (whose methods need their receiver) is used as it is.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/index'
import type { Shape } from '../../src/core/index'
import { catchUpResponse, change, FakeShapeServer, HANDLE, liveResponse } from '../core/support/fakeShapeServer'
import { statusWhere } from '../core/support/streamHarness'
import { items, row, SCHEMA } from '../core/support/persistPage'

const clients: ShapeClient[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.dispose()
  window.localStorage.clear()
  Reflect.deleteProperty(navigator, 'onLine')
})

function setOnLine(value: boolean): void {
  Object.defineProperty(navigator, 'onLine', { value, configurable: true })
}

function storedOffset(): string | undefined {
  for (let index = 0; index < window.localStorage.length; index++) {
    const key = window.localStorage.key(index)!
    if (key.includes('/shape/')) return JSON.parse(window.localStorage.getItem(key)!).offset
  }
  return undefined
}

function nextChange(shape: Shape): Promise<void> {
  return new Promise((resolve) => {
    const off = shape.subscribe(() => {
      off()
      resolve()
    })
  })
}

describe('persistence and outages with the browser defaults', () => {
  it('persists to localStorage, writes on pagehide, reloads offline from it, and resumes live at once on the online event', async () => {
    const first = new FakeShapeServer()
    const client = new ShapeClient({ fetch: first.fetch, persist: { storage: window.localStorage, throttleMs: 60_000 } })
    clients.push(client)
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await first.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    await client.flushPersisted()
    expect(storedOffset()).toBe('0_inf')
    const live = await first.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '5_0', cursor: '5', lsn: '5', messages: [change({ operation: 'insert', id: 5, title: 'five', lsn: '5', opPosition: 0, last: true })] }))
    await changed
    expect(storedOffset()).toBe('0_inf')
    window.dispatchEvent(new Event('pagehide'))
    expect(storedOffset()).toBe('5_0')
    release()
    client.dispose()

    // The reload, with the platform saying it is offline.
    setOnLine(false)
    const second = new FakeShapeServer()
    // A long backoff wait (60 s), so only the online event can explain a prompt retry.
    const reload = new ShapeClient({ fetch: second.fetch, random: () => 0.99, persist: { storage: window.localStorage } })
    clients.push(reload)
    const cached = reload.shape({ ...items(), backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } })
    expect(cached.getSnapshot().data.map((item) => item['title'])).toEqual(['one', 'five'])
    expect(cached.getStatus()).toMatchObject({ source: 'cache', offline: true })
    const hold = cached.retain()
    ;(await second.nextRequest()).fail(new TypeError('Failed to fetch'))
    await statusWhere(cached, (status) => status.nextRetryAt !== undefined)
    expect(cached.getStatus()).toMatchObject({ phase: 'retrying', source: 'cache', offline: true })

    setOnLine(true)
    window.dispatchEvent(new Event('online'))
    const resumed = await second.nextRequest()
    expect(Object.fromEntries(resumed.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '5_0' })
    expect(cached.getStatus().offline).toBe(false)
    resumed.respond(liveResponse({ requestOffset: '5_0', offset: '6_0', cursor: '6', lsn: '6', messages: [] }))
    await statusWhere(cached, (status) => status.source === 'network')
    expect(second.requests.map((request) => request.params.get('offset'))).not.toContain('-1')
    hold()
    reload.dispose()
    await reload.clearPersisted()
    expect(Object.keys(window.localStorage).filter((key) => key.startsWith('live-shapes/'))).toEqual([])
  })
})
