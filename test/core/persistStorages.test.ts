/**
 * Persisted shapes over the storages apps really plug in: an async one (AsyncStorage, IndexedDB: every method returns
 * a promise), one whose async `setItem` rejects with a quota error, and a reload with the network down (offline:
 * cached rows, status offline/cache, live again on `online` or `retryNow()` without refetching the snapshot).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { MemoryStorage, PersistStorage } from '../../src/core/persist/persistStorage'
import { memoryStorage } from '../../src/core/persist/persistStorage'
import { indexedDBStorage } from '../../src/core/persist/indexedDBStorage'
import type { Row } from '../../src/core/protocol'
import { catchUpResponse, change, HANDLE, keyOf, liveResponse, mustRefetchResponse } from './support/fakeShapeServer'
import { fakeConnectivity } from './support/fakeAdapters'
import { ManualClock } from './support/manualClock'
import { entryKeys, firstLoad, items, nextChange, page, row, SCHEMA } from './support/persistPage'
import { statusWhere } from './support/streamHarness'

let warn: ReturnType<typeof vi.spyOn> | undefined
afterEach(() => {
  warn?.mockRestore()
  warn = undefined
})
function spyWarn() {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  return warn
}

/** `memory` behind a storage whose every method answers in a later microtask, as AsyncStorage and IndexedDB do. */
function asyncOver(memory: MemoryStorage): PersistStorage {
  return {
    getItem: async (key) => memory.getItem(key),
    setItem: async (key, value) => memory.setItem(key, value),
    removeItem: async (key) => memory.removeItem(key),
  }
}

describe('persisted shapes on an async storage', () => {
  it('writes, reloads before the first request (live at the stored offset), replaces the entry after a 409, and clears on logout', async () => {
    const memory = memoryStorage()
    const storage = asyncOver(memory)
    const { rows } = await firstLoad(storage)
    expect(entryKeys(memory)).toHaveLength(1)

    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    const request = await reload.server.nextRequest()
    // The stored rows were published before the first request went out.
    expect(shape.getSnapshot().data).toEqual(rows)
    expect((shape.getRow(keyOf(1)) as Row)['big']).toBe(9007199254740993n)
    expect(shape.getStatus()).toMatchObject({ source: 'cache', isUpToDate: true })
    expect(Object.fromEntries(request.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0', cursor: '4242' })

    request.respond(mustRefetchResponse('h2'))
    const refetch = await reload.server.nextRequest()
    expect(Object.fromEntries(refetch.params)).toMatchObject({ offset: '-1', handle: 'h2' })
    refetch.respond(catchUpResponse({ handle: 'h2', requestOffset: '-1', offset: '0_inf', lsn: '30', schema: SCHEMA, messages: [row(7, 'seven', '7')] }))
    await statusWhere(shape, (status) => status.phase === 'live' && status.handle === 'h2')
    expect(shape.getStatus().source).toBe('network')
    await reload.client.flushPersisted()
    const stored = JSON.parse(memory.entries.get(entryKeys(memory)[0]!)!)
    expect(stored).toMatchObject({ handle: 'h2', offset: '0_inf' })
    expect(stored.rows.map(([key]: [string]) => key)).toEqual([keyOf(7)])
    release()
    reload.client.dispose()
    await reload.client.flushPersisted()

    const logout = page(storage)
    await logout.client.clearPersisted()
    expect(memory.entries.size).toBe(0)
    logout.client.dispose()
  })

  const untrusted: Array<[string, (text: string) => string, { buster?: string; maxAgeMs?: number }]> = [
    ['corrupt JSON', (text) => text.slice(0, 40), {}],
    ['another buster', (text) => text, { buster: 'v2' }],
    ['an expired entry', (text) => text, { maxAgeMs: 1 }],
  ]
  for (const [what, edit, persist] of untrusted) {
    it(`drops ${what} with a warning, removes it, and syncs from offset=-1; nothing is thrown`, async () => {
      const memory = memoryStorage()
      await firstLoad(asyncOver(memory))
      const key = entryKeys(memory)[0]!
      memory.entries.set(key, edit(memory.entries.get(key)!))
      const warned = spyWarn()
      const reload = page(asyncOver(memory), persist, new ManualClock(1_700_000_000_000 + 10_000))
      const shape = reload.client.shape(items())
      const release = shape.retain()
      const request = await reload.server.nextRequest()
      expect(request.params.get('offset')).toBe('-1')
      expect(shape.getSnapshot().isUpToDate).toBe(false)
      expect(shape.getStatus().source).toBe('network')
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('Dropped the persisted items'))
      await reload.client.flushPersisted()
      expect(memory.entries.has(key)).toBe(false)
      release()
      reload.client.dispose()
    })
  }
})

describe('a storage that refuses writes asynchronously', () => {
  it('a rejected setItem (QuotaExceededError) turns persistence off with a status warning; no unhandled rejection, no further writes', async () => {
    const warned = spyWarn()
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      let attempts = 0
      const full: PersistStorage = {
        getItem: async () => null,
        setItem: async () => {
          attempts++
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        },
        removeItem: async () => undefined,
      }
      const { server, clock, client } = page(full)
      const shape = client.shape(items())
      const release = shape.retain()
      ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
      await shape.whenUpToDate()
      const status = await statusWhere(shape, (candidate) => candidate.warning !== undefined)
      expect(status.warning).toMatch(/QuotaExceededError/)
      expect(warned).toHaveBeenCalledTimes(1)

      const live = await server.nextRequest()
      const changed = nextChange(shape)
      live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
      await changed
      clock.advance(10_000)
      await client.flushPersisted()
      await new Promise((resolve) => setImmediate(resolve))
      expect(attempts).toBe(1)
      expect(shape.getSnapshot().data).toHaveLength(2)
      expect(shape.getStatus().warning).toMatch(/QuotaExceededError/)
      expect(unhandled).toEqual([])
      release()
      client.dispose()
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('the stored age', () => {
  it('is the time since the last sync: a live answer with no change, then closing the page, makes the next load say so', async () => {
    const storage = memoryStorage()
    const clock = new ManualClock()
    const { server, client } = page(storage, {}, clock)
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    const quiet = await server.nextRequest()
    clock.advance(15_000)
    // The long poll answers 15 s later: nothing changed, the rows are as of now.
    quiet.respond(liveResponse({ requestOffset: '0_inf', offset: '0_inf', cursor: '9', lsn: '1', messages: [] }))
    await statusWhere(shape, (status) => status.lastSyncedAt === clock.now())
    release()
    client.dispose()

    const reload = page(storage, {}, new ManualClock(clock.now() + 10_000))
    expect(reload.client.shape(items()).getStatus()).toMatchObject({ source: 'cache', cacheAgeMs: 10_000 })
    reload.client.dispose()
  })
})

describe('logout after a storage failure', () => {
  it('an entry whose index write hit the quota is still removed by clearPersisted on a later page load', async () => {
    spyWarn()
    const memory = memoryStorage()
    const indexFull: PersistStorage = {
      getItem: (key) => memory.getItem(key),
      setItem: (key, value) => {
        if (key.endsWith('/index')) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        memory.setItem(key, value)
      },
      removeItem: (key) => memory.removeItem(key),
    }
    const { server, client } = page(indexFull)
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    await statusWhere(shape, (status) => status.warning !== undefined)
    await client.flushPersisted()
    release()
    client.dispose()

    // Persisted user data must never be left behind by a logout, whatever failed while it was written.
    const logout = page(memory)
    await logout.client.clearPersisted()
    expect(entryKeys(memory)).toEqual([])
    logout.client.dispose()
  })
})

describe('two clients on one storage and namespace', () => {
  it('an entry one client writes again after the other cleared the namespace is still removed by the next logout (a storage that cannot list its keys)', async () => {
    const memory = memoryStorage()
    const storage = asyncOver(memory)
    const { server, client } = page(storage, { throttleMs: 0 })
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    await client.flushPersisted()
    expect(entryKeys(memory)).toHaveLength(1)

    const other = page(storage)
    await other.client.clearPersisted()
    other.client.dispose()
    expect(memory.entries.size).toBe(0)

    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    await client.flushPersisted()
    expect(entryKeys(memory)).toHaveLength(1)
    release()
    client.dispose()

    const logout = page(storage)
    await logout.client.clearPersisted()
    expect([...memory.entries.keys()]).toEqual([])
    logout.client.dispose()
  })
})

describe('a reload with the network down', () => {
  it('shows the cached rows with an offline, cached status, and on online resumes live from the stored offset (no offset=-1)', async () => {
    const storage = memoryStorage()
    const { rows } = await firstLoad(storage)
    const network = fakeConnectivity(false)
    const reload = page(storage, {}, new ManualClock(), network.adapter)
    const shape = reload.client.shape(items())
    const release = shape.retain()

    ;(await reload.server.nextRequest()).fail(new TypeError('Failed to fetch'))
    const offline = await statusWhere(shape, (status) => status.nextRetryAt !== undefined)
    expect(offline).toMatchObject({ phase: 'retrying', offline: true, source: 'cache', isUpToDate: true })
    expect(offline.cacheAgeMs).toBeGreaterThanOrEqual(0)
    expect(shape.getSnapshot().data).toEqual(rows)

    network.emit('online')
    const resumed = await reload.server.nextRequest()
    expect(Object.fromEntries(resumed.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0' })
    expect(shape.getStatus().offline).toBe(false)
    resumed.respond(liveResponse({ requestOffset: '20_0', offset: '21_0', cursor: '4300', lsn: '21', messages: [change({ operation: 'insert', id: 4, title: 'four', lsn: '21', opPosition: 0, last: true })] }))
    const live = await statusWhere(shape, (status) => status.source === 'network' && status.offset === '21_0')
    expect(live).toMatchObject({ phase: 'live', error: undefined })
    expect(shape.getSnapshot().data).toHaveLength(4)
    expect(reload.server.requests.map((request) => request.params.get('offset'))).not.toContain('-1')
    release()
    reload.client.dispose()
  })

  it('retryNow() after the network came back resumes live from the stored offset at once', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    ;(await reload.server.nextRequest()).fail(new TypeError('Failed to fetch'))
    await statusWhere(shape, (status) => status.nextRetryAt !== undefined)
    expect(shape.getStatus().source).toBe('cache')
    expect(shape.retryNow()).toBe(true)
    const resumed = await reload.server.nextRequest()
    expect(Object.fromEntries(resumed.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0' })
    release()
    reload.client.dispose()
  })
})

describe('indexedDBStorage() where there is no IndexedDB (a server render, Node)', () => {
  it('holds nothing and writes nothing: no warning on every render, and a logout resolves', async () => {
    expect(typeof indexedDB).toBe('undefined')
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const storage = indexedDBStorage()
      expect(await storage.getItem('anything')).toBeNull()
      await expect(Promise.resolve(storage.setItem('anything', 'x'))).resolves.toBeUndefined()
      expect(await storage.keys?.()).toEqual([])
      // The same client code a client component runs during its server render.
      const { server, client } = page(storage)
      const shape = client.shape(items())
      const release = shape.retain()
      const first = await server.nextRequest()
      expect(first.params.get('offset')).toBe('-1')
      first.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
      await shape.whenUpToDate()
      await client.flushPersisted()
      expect(shape.getStatus().warning).toBeUndefined()
      release()
      client.dispose()
      await expect(client.clearPersisted()).resolves.toBeUndefined()
      expect(warned).not.toHaveBeenCalled()
    } finally {
      warned.mockRestore()
    }
  })
})
