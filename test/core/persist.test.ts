/**
 * Persisted shapes over a memory storage: a reload publishes the stored rows before any request and resumes live
 * from the stored position; 409, corrupt/expired/busted entries, throttling, quota errors, namespaces and logout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidOptionsError } from '../../src/core/errors'
import type { Row } from '../../src/core/protocol'
import type { PersistOptions } from '../../src/core/persist/shapePersister'
import type { MemoryStorage, PersistStorage } from '../../src/core/persist/persistStorage'
import { memoryStorage } from '../../src/core/persist/persistStorage'
import type { PageHideAdapter } from '../../src/core/persist/pageHide'
import { ShapeClient } from '../../src/core/shapeClient'
import { hydrate } from '../../src/core/hydration'
import type { Shape } from '../../src/core/shape'
import { IDLE_STATUS, SERVER_VIEW } from '../../src/core/internal'
import { catchUpResponse, change, HANDLE, keyOf, liveResponse, mustRefetchResponse, rawResponse, snapshotResponse } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { statusWhere } from './support/streamHarness'
import { entryKeys, firstLoad, items, nextChange, page, row, SCHEMA, url } from './support/persistPage'

let warn: ReturnType<typeof vi.spyOn>
afterEach(() => warn?.mockRestore())
function spyWarn() {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  return warn
}

describe('persisted shapes: reload', () => {
  it('publishes the stored rows before any request, then goes live at the stored offset (never offset=-1)', async () => {
    const storage = memoryStorage()
    const { rows } = await firstLoad(storage)
    expect(entryKeys(storage)).toHaveLength(1)

    const reload = page(storage)
    const shape = reload.client.shape(items())
    const snapshot = shape.getSnapshot()
    expect(snapshot.isUpToDate).toBe(true)
    expect(snapshot.data).toEqual(rows)
    expect((shape.getRow(keyOf(1)) as Row)['big']).toBe(9007199254740993n)
    expect(reload.server.requests).toHaveLength(0)
    expect(shape.getStatus()).toMatchObject({ source: 'cache', isUpToDate: true, handle: HANDLE, offset: '20_0' })
    expect(shape.getStatus().cacheAgeMs).toBeGreaterThanOrEqual(0)
    // A server has no storage: it rendered the shape as it was before the seed, and hydration must render that.
    const server = shape[SERVER_VIEW]()
    expect(server.getSnapshot()).toMatchObject({ isUpToDate: false, data: [] })
    expect(server.getRow(keyOf(1))).toBeUndefined()
    expect(server.getStatus()).toMatchObject({ ...IDLE_STATUS, source: 'network' })

    const release = shape.retain()
    const request = await reload.server.nextRequest()
    expect(Object.fromEntries(request.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0', cursor: '4242' })
    expect(shape.getStatus().source).toBe('cache')
    request.respond(liveResponse({ requestOffset: '20_0', offset: '30_0', cursor: '4300', lsn: '30', messages: [] }))
    const confirmed = await statusWhere(shape, (status) => status.source === 'network')
    expect(confirmed.cacheAgeMs).toBeUndefined()
    expect(reload.server.requests.every((sent) => sent.params.get('offset') !== '-1')).toBe(true)
    release()
    reload.client.dispose()
  })

  it('an optimistic write over the cached rows leaves the status on cache and stores nothing it did not confirm', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const [key] = entryKeys(storage)
    const stored = storage.entries.get(key!)

    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    await reload.server.nextRequest() // held: no server answer yet
    const pending = shape.mutate({ apply: (draft) => draft.update({ id: 1, title: 'edited offline' }), commit: () => new Promise(() => {}) })
    pending.catch(() => {})
    expect((shape.getRow(keyOf(1)) as Row)['title']).toBe('edited offline')
    expect(shape.getStatus().source).toBe('cache')
    await reload.client.flushPersisted()
    expect(storage.entries.get(key!)).toBe(stored)
    expect(shape.getSyncedSnapshot().rows.get(keyOf(1))).toMatchObject({ title: 'one' })
    release()
    reload.client.dispose()
  })

  it('with a synchronous storage the entry is there as soon as the shape is up to date, and after dispose, without a flush', async () => {
    const storage = memoryStorage()
    const first = page(storage)
    const shape = first.client.shape(items())
    const release = shape.retain()
    ;(await first.server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    expect(page(storage).client.shape(items()).getSnapshot().keys).toEqual([keyOf(1)])

    const live = await first.server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    release()
    first.client.dispose()
    const reload = page(storage).client.shape(items())
    expect(reload.getSnapshot().keys).toEqual([keyOf(1), keyOf(2)])
    expect(reload.getStatus()).toMatchObject({ offset: '2_0', source: 'cache' })
  })

  it('a newer server render hydrated over the cached rows wins, and the status no longer says cache', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage)
    const shape = reload.client.shape(items())
    expect(shape.getStatus().source).toBe('cache')
    hydrate(reload.client, {
      version: 1,
      shapes: [{ options: { url, params: { table: 'items' } }, position: { handle: 'ssr', offset: '0_inf' }, rows: [[keyOf(9), { id: 9 }]], lastSyncedAt: 1_800_000_000_000 }],
    })
    expect(shape.getSnapshot().keys).toEqual([keyOf(9)])
    expect(shape.getStatus()).toMatchObject({ source: 'network', handle: 'ssr', cacheAgeMs: undefined })
    // The server rendered these rows: they are the shape's server view now, as that seed left it.
    expect(shape[SERVER_VIEW]().getSnapshot()).toBe(shape.getSnapshot())
    expect(shape[SERVER_VIEW]().getStatus()).toBe(shape.getStatus())
    reload.client.dispose()
  })

  it('a shape hydration creates shows the server render even when the stored entry of its handle is newer, and reads no storage', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    let reads = 0
    const counting: PersistStorage = {
      getItem: (key) => {
        reads += 1
        return storage.getItem(key)
      },
      setItem: (key, value) => storage.setItem(key, value),
      removeItem: (key) => storage.removeItem(key),
    }
    const reload = page(counting)
    // The server rendered the shape at 0_inf on the same handle: older than the stored 20_0.
    hydrate(reload.client, {
      version: 1,
      shapes: [{ options: { url, params: { table: 'items' } }, position: { handle: HANDLE, offset: '0_inf', cursor: '7' }, rows: [[keyOf(1), { id: 1, title: 'server' }]], lastSyncedAt: 1_800_000_000_000 }],
    })
    const shape = reload.client.shape(items())
    expect(reads).toBe(0)
    expect(shape[SERVER_VIEW]().getSnapshot()).toBe(shape.getSnapshot())
    expect(shape[SERVER_VIEW]().getStatus()).toBe(shape.getStatus())
    expect(shape.getSnapshot().data).toEqual([{ id: 1, title: 'server' }])
    expect(shape.getStatus()).toMatchObject({ source: 'network', handle: HANDLE, offset: '0_inf' })
    // The live request goes out from the server's position at once: nothing waits for storage.
    const release = shape.retain()
    const request = await reload.server.nextRequest()
    expect(Object.fromEntries(request.params)).toMatchObject({ handle: HANDLE, offset: '0_inf' })
    release()
    reload.client.dispose()
  })

  it('with an async storage the first request waits for the read, and the rows are published before it', async () => {
    const memory = memoryStorage()
    const { rows } = await firstLoad(memory)
    let answer: (() => void) | undefined
    const slow: PersistStorage = {
      getItem: (key) => new Promise((resolve) => (answer = () => resolve(memory.getItem(key)))),
      setItem: async (key, value) => memory.setItem(key, value),
      removeItem: async (key) => memory.removeItem(key),
    }
    const reload = page(slow)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    await Promise.resolve()
    expect(reload.server.requests).toHaveLength(0)
    expect(shape.getSnapshot().isUpToDate).toBe(false)
    let publishedBeforeFetch: unknown
    const fetchSeen = reload.server.nextRequest().then((request) => {
      publishedBeforeFetch = shape.getSnapshot().data
      return request
    })
    answer?.()
    const request = await fetchSeen
    expect(publishedBeforeFetch).toEqual(rows)
    expect(Object.fromEntries(request.params)).toMatchObject({ live: 'true', offset: '20_0', handle: HANDLE })
    release()
    reload.client.dispose()
  })

  it('an async read that never answers is abandoned after readTimeoutMs and the shape syncs from the network', async () => {
    spyWarn()
    const stuck: PersistStorage = { getItem: () => new Promise(() => {}), setItem: () => undefined, removeItem: () => undefined }
    const reload = page(stuck, { readTimeoutMs: 500 })
    const shape = reload.client.shape(items())
    const release = shape.retain()
    await Promise.resolve()
    expect(reload.server.requests).toHaveLength(0)
    reload.clock.advance(500)
    const request = await reload.server.nextRequest()
    expect(request.params.get('offset')).toBe('-1')
    expect(warn).toHaveBeenCalled()
    release()
    reload.client.dispose()
  })

  it('a 409 refetches and replaces the cache; the cached rows stay shown (source cache) until the refetch is up to date', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    const resumed = await reload.server.nextRequest()
    resumed.respond(mustRefetchResponse('new-handle'))
    const refetch = await reload.server.nextRequest()
    expect(Object.fromEntries(refetch.params)).toMatchObject({ offset: '-1', handle: 'new-handle' })
    expect(shape.getSnapshot().data).toHaveLength(3)
    expect(shape.getStatus().source).toBe('cache')
    await reload.client.flushPersisted()
    expect(JSON.parse(storage.entries.get(entryKeys(storage)[0]!)!).handle).toBe(HANDLE)

    refetch.respond(snapshotResponse({ handle: 'new-handle', requestOffset: '-1', offset: '0_0', schema: SCHEMA, messages: [row(7, 'seven', '7')] }))
    const rest = await reload.server.nextRequest()
    expect(Object.fromEntries(rest.params)).toMatchObject({ offset: '0_0', handle: 'new-handle' })
    expect(shape.getSnapshot().data).toHaveLength(3)
    expect(shape.getStatus()).toMatchObject({ source: 'cache', phase: 'refetching' })
    rest.respond(catchUpResponse({ handle: 'new-handle', requestOffset: '0_0', offset: '0_inf', lsn: '50', schema: SCHEMA, messages: [] }))
    await statusWhere(shape, (status) => status.phase === 'live' && status.handle === 'new-handle')
    expect(shape.getStatus().source).toBe('network')
    await reload.client.flushPersisted()
    const stored = JSON.parse(storage.entries.get(entryKeys(storage)[0]!)!)
    expect(stored).toMatchObject({ handle: 'new-handle', offset: '0_inf' })
    expect(stored.rows.map(([key]: [string]) => key)).toEqual([keyOf(7)])
    release()
    reload.client.dispose()

    const again = page(storage).client.shape(items())
    expect(again.getSnapshot().keys).toEqual([keyOf(7)])
  })
})

describe('persisted shapes: subset snapshots', () => {
  it('a subset page asked of a shape restored on a handle the server dropped waits for the stream to resync instead of spending its attempts', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    const live = await reload.server.nextRequest()
    expect(Object.fromEntries(live.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0' })

    const loaded = shape.requestSnapshot({ orderBy: 'id', limit: 1 }, { signal: new AbortController().signal })
    const refused = await reload.server.nextRequest()
    expect(refused.params.get('subset__limit')).toBe('1')
    expect(refused.params.get('handle')).toBe(HANDLE)
    refused.respond(mustRefetchResponse('rotated'))
    // Nothing more is asked while the stream is still on the refused handle (before: two more 409s, then an error).
    for (let turn = 0; turn < 20; turn++) await Promise.resolve()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(reload.server.requests).toHaveLength(2)

    live.respond(mustRefetchResponse('rotated'))
    const refetch = await reload.server.nextRequest()
    expect(Object.fromEntries(refetch.params)).toMatchObject({ offset: '-1', handle: 'rotated' })
    refetch.respond(catchUpResponse({ handle: 'rotated', requestOffset: '-1', offset: '0_inf', lsn: '40', schema: SCHEMA, messages: [row(1, 'one again', '1')] }))
    const again = await reload.server.nextRequest()
    const subset = again.params.get('subset__limit') === '1' ? again : await reload.server.nextRequest()
    expect(subset.params.get('handle')).toBe('rotated')
    subset.respond(
      rawResponse(JSON.stringify({ metadata: { xmin: '50', xmax: '50', xip_list: [], database_lsn: '40', snapshot_mark: 1 }, data: [row(1, 'one again', '1')] }), {
        'content-type': 'application/json',
        'electric-handle': 'rotated',
        'electric-offset': '0_inf',
        'electric-schema': JSON.stringify(SCHEMA),
      }),
    )
    const page1 = await loaded
    expect(page1.data).toEqual([{ id: 1, title: 'one again', big: 1n }])
    release()
    reload.client.dispose()
  })
  it('a subset page waiting for the stream to leave a refused handle rejects when the client is disposed, instead of hanging', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage)
    const shape = reload.client.shape(items())
    const release = shape.retain()
    await reload.server.nextRequest()
    const loaded = shape.requestSnapshot({ orderBy: 'id', limit: 1 }, { signal: new AbortController().signal })
    const refused = await reload.server.nextRequest()
    refused.respond(mustRefetchResponse('rotated'))
    for (let turn = 0; turn < 20; turn++) await Promise.resolve()
    release()
    reload.client.dispose()
    await expect(loaded).rejects.toThrow()
  })
})

describe('persisted shapes: entries that cannot be trusted are dropped with a warning', () => {
  async function expectDropped(storage: MemoryStorage, persist: Partial<PersistOptions>, clock?: ManualClock): Promise<void> {
    const warned = spyWarn()
    const reload = page(storage, persist, clock)
    let shape: Shape<Row> | undefined
    expect(() => (shape = reload.client.shape(items()))).not.toThrow()
    expect(shape!.getSnapshot().isUpToDate).toBe(false)
    expect(shape!.getStatus().source).toBe('network')
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('Dropped the persisted items'))
    const release = shape!.retain()
    expect((await reload.server.nextRequest()).params.get('offset')).toBe('-1')
    await reload.client.flushPersisted()
    expect(entryKeys(storage)).toHaveLength(0)
    release()
    reload.client.dispose()
  }

  it('corrupt text (not JSON)', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    storage.entries.set(entryKeys(storage)[0]!, '{"format":1,"rows":[')
    await expectDropped(storage, {})
  })

  it('a corrupt value inside a row, or a wrong offset', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const key = entryKeys(storage)[0]!
    const entry = JSON.parse(storage.entries.get(key)!)
    storage.entries.set(key, JSON.stringify({ ...entry, rows: [[keyOf(1), { big: { $ls: 'bigint', v: 'x' } }]] }))
    await expectDropped(storage, {})
    await firstLoad(storage)
    storage.entries.set(key, JSON.stringify({ ...entry, offset: '-1' }))
    await expectDropped(storage, {})
  })

  it('another buster', async () => {
    const storage = memoryStorage()
    await firstLoad(storage, { buster: 'v1' })
    await expectDropped(storage, { buster: 'v2' })
  })

  it('another format version', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const key = entryKeys(storage)[0]!
    storage.entries.set(key, JSON.stringify({ ...JSON.parse(storage.entries.get(key)!), format: 999 }))
    await expectDropped(storage, {})
  })

  it('an entry older than maxAgeMs', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const later = new ManualClock(1_700_000_000_000 + 60_000)
    await expectDropped(storage, { maxAgeMs: 30_000 }, later)
  })

  it('a fresh entry within maxAgeMs is kept', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const reload = page(storage, { maxAgeMs: 120_000 }, new ManualClock(1_700_000_000_000 + 60_000))
    const status = reload.client.shape(items()).getStatus()
    expect(status).toMatchObject({ source: 'cache', cacheAgeMs: 60_000 })
    reload.client.dispose()
  })
})

describe('persisted shapes: writes', () => {
  it('at most one write per shape per throttleMs, with the latest state, and none of a refetch in progress', async () => {
    const memory = memoryStorage()
    const writes: string[] = []
    const storage: PersistStorage = { ...memory, setItem: (key, value) => {
      if (key.includes('/shape/')) writes.push(value)
      memory.setItem(key, value)
    } }
    const { server, clock, client } = page(storage, { throttleMs: 1000 })
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    // The first up-to-date state is written at once (a sync storage has it when the caller continues).
    expect(writes).toHaveLength(1)
    expect(clock.pendingTimers).toBe(0)

    for (const [index, offset] of [['2', '2_0'], ['3', '3_0']] as const) {
      const live = await server.nextRequest()
      const changed = nextChange(shape)
      const previous = index === '2' ? '0_inf' : '2_0'
      live.respond(liveResponse({ requestOffset: previous, offset, cursor: index, lsn: index, messages: [change({ operation: 'insert', id: Number(index), title: index, lsn: index, opPosition: 0, last: true })] }))
      await changed
    }
    clock.advance(999)
    await Promise.resolve()
    expect(writes).toHaveLength(1)
    clock.advance(1)
    await client.flushPersisted()
    expect(writes).toHaveLength(2)
    expect(JSON.parse(writes[1]!)).toMatchObject({ offset: '3_0' })
    expect(JSON.parse(writes[1]!).rows).toHaveLength(3)

    // A 409: nothing is written until the refetched rows are up to date (never a half-applied state).
    const live = await server.nextRequest()
    live.respond(mustRefetchResponse('h2'))
    const refetch = await server.nextRequest()
    clock.advance(5000)
    await client.flushPersisted()
    expect(writes).toHaveLength(2)
    refetch.respond(catchUpResponse({ handle: 'h2', requestOffset: '-1', offset: '0_inf', lsn: '9', schema: SCHEMA, messages: [row(9, 'nine', '9')] }))
    await statusWhere(shape, (status) => status.phase === 'live' && status.handle === 'h2')
    clock.advance(0)
    await client.flushPersisted()
    expect(writes).toHaveLength(3)
    expect(JSON.parse(writes[2]!)).toMatchObject({ handle: 'h2', offset: '0_inf' })
    release()
    client.dispose()
  })

  it('keeps a gap of ten times the last encoding after a write, so a large shape does not spend the main thread persisting', async () => {
    const storage = memoryStorage()
    const { server, clock, client } = page(storage, { throttleMs: 100 })
    // Reading a row's `slow` column takes 100 ms of the client's clock: the write's encoding is measurable.
    const transformer = (value: Row): Row => Object.defineProperty({ ...value }, 'slow', { enumerable: true, get: () => (clock.advance(100), 1) })
    const shape = client.shape({ ...items(), transformer })
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    const written = (): string => JSON.parse(storage.entries.get(entryKeys(storage)[0]!)!).offset
    expect(written()).toBe('0_inf')
    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    clock.advance(500)
    await Promise.resolve()
    expect(written()).toBe('0_inf')
    clock.advance(5000)
    await Promise.resolve()
    expect(written()).toBe('2_0')
    release()
    client.dispose()
  })

  it('writes what the throttle holds when the page is hidden', async () => {
    const storage = memoryStorage()
    let hide: (() => void) | undefined
    const pageHide: PageHideAdapter = { subscribe: (listener) => ((hide = listener), () => (hide = undefined)) }
    const { server, clock, client } = page(storage, { throttleMs: 60_000, pageHide })
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    clock.advance(0)
    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '5_0', cursor: '5', lsn: '5', messages: [change({ operation: 'insert', id: 5, title: 'five', lsn: '5', opPosition: 0, last: true })] }))
    await changed
    await Promise.resolve()
    expect(JSON.parse(storage.entries.get(entryKeys(storage)[0]!)!).offset).toBe('0_inf')
    hide?.()
    await new Promise((resolve) => setImmediate(resolve))
    expect(JSON.parse(storage.entries.get(entryKeys(storage)[0]!)!).offset).toBe('5_0')
    release()
    client.dispose()
    expect(hide).toBeUndefined()
    expect(clock.pendingTimers).toBe(0)
  })

  it('a quota error turns persistence off with a status warning; nothing is thrown and the shape keeps syncing', async () => {
    const warned = spyWarn()
    let attempts = 0
    const full: PersistStorage = {
      getItem: () => null,
      setItem: () => {
        attempts++
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
      },
      removeItem: () => undefined,
    }
    const { server, clock, client } = page(full)
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    clock.advance(0)
    const status = await statusWhere(shape, (candidate) => candidate.warning !== undefined)
    expect(status.warning).toMatch(/QuotaExceededError/)
    expect(warned).toHaveBeenCalledTimes(1)
    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    clock.advance(10_000)
    await client.flushPersisted()
    expect(attempts).toBe(1)
    expect(shape.getSnapshot().data).toHaveLength(2)
    release()
    client.dispose()
  })

  it('a shape with function-valued params is not persisted (it has no identity across page loads)', async () => {
    const storage = memoryStorage()
    const { server, clock, client } = page(storage)
    const shape = client.shape({ url, params: { table: 'items', where: () => 'id > 0' } })
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    clock.advance(0)
    await client.flushPersisted()
    expect(storage.entries.size).toBe(0)
    expect(shape.getStatus().source).toBeUndefined()
    release()
    client.dispose()
  })
})

describe('persisted shapes: namespaces and logout', () => {
  it('two namespaces on one storage never see each other, and clearPersisted removes only its own', async () => {
    const storage = memoryStorage()
    await firstLoad(storage, { namespace: 'alice' })
    expect(entryKeys(storage, 'alice')).toHaveLength(1)

    const bob = page(storage, { namespace: 'bob' })
    const bobShape = bob.client.shape(items())
    expect(bobShape.getSnapshot().isUpToDate).toBe(false)
    const release = bobShape.retain()
    const request = await bob.server.nextRequest()
    expect(request.params.get('offset')).toBe('-1')
    request.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(8, 'bob', '8')] }))
    await bobShape.whenUpToDate()
    bob.clock.advance(0)
    await bob.client.flushPersisted()
    release()
    bob.client.dispose()
    expect(entryKeys(storage, 'bob')).toHaveLength(1)

    const alice = page(storage, { namespace: 'alice' })
    expect(alice.client.shape(items()).getSnapshot().data).toHaveLength(3)
    alice.client.dispose()
    await alice.client.clearPersisted()
    expect(entryKeys(storage, 'alice')).toHaveLength(0)
    expect(storage.entries.has('live-shapes/alice/index')).toBe(false)
    expect(entryKeys(storage, 'bob')).toHaveLength(1)

    const afterLogout = page(storage, { namespace: 'alice' })
    expect(afterLogout.client.shape(items()).getSnapshot().isUpToDate).toBe(false)
    expect(page(storage, { namespace: 'bob' }).client.shape(items()).getSnapshot().keys).toEqual([keyOf(8)])
  })

  it('clearPersisted removes every entry of the namespace, including ones written by earlier page loads', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const other = page(storage)
    const shape = other.client.shape({ url, params: { table: 'items', where: 'id > 1' } })
    const release = shape.retain()
    ;(await other.server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(2, 'two', '2')] }))
    await shape.whenUpToDate()
    other.clock.advance(0)
    await other.client.flushPersisted()
    expect(entryKeys(storage)).toHaveLength(2)
    release()
    other.client.dispose()

    const logout = page(storage)
    await logout.client.clearPersisted()
    expect(storage.entries.size).toBe(0)
  })

  it('a removal that fails does not stop clearPersisted: every other entry is removed, it rejects, and the next clear finds the one left', async () => {
    const storage = memoryStorage()
    await firstLoad(storage)
    const other = page(storage)
    const shape = other.client.shape({ url, params: { table: 'items', where: 'id > 1' } })
    const release = shape.retain()
    ;(await other.server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(2, 'two', '2')] }))
    await shape.whenUpToDate()
    await other.client.flushPersisted()
    release()
    other.client.dispose()
    const [failing, ...rest] = entryKeys(storage)
    expect(rest).toHaveLength(1)

    let refuse = true
    const flaky: PersistStorage = {
      getItem: (key) => storage.getItem(key),
      setItem: (key, value) => storage.setItem(key, value),
      removeItem: (key) => {
        if (key === failing && refuse) throw new Error('storage busy')
        storage.removeItem(key)
      },
    }
    const logout = page(flaky)
    await expect(logout.client.clearPersisted()).rejects.toThrow('storage busy')
    expect(entryKeys(storage)).toEqual([failing])
    refuse = false
    await logout.client.clearPersisted()
    expect(storage.entries.size).toBe(0)
    logout.client.dispose()
  })

  it('clearPersisted finds entries the namespace index lost (two tabs rewriting it at once), through keys() or a Web Storage', async () => {
    // Two tabs read the index [A], then each writes its own version: [A, B] and [A, C]. The last write wins, so the
    // index lists A and C while B's rows stay in storage; a logout that trusted the index would leave them behind.
    const lost = async (storage: PersistStorage & { entries: Map<string, string> }) => {
      await firstLoad(storage, { namespace: 'alice' })
      await firstLoad(storage, { namespace: 'bob' })
      const [entry] = entryKeys(storage, 'alice')
      storage.entries.set('live-shapes/alice/shape/lost-by-the-index', storage.entries.get(entry!)!)
      expect(JSON.parse(storage.entries.get('live-shapes/alice/index')!)).toEqual([entry])
      const logout = page(storage, { namespace: 'alice' })
      await logout.client.clearPersisted()
      expect([...storage.entries.keys()].filter((key) => key.startsWith('live-shapes/alice/'))).toEqual([])
      expect(entryKeys(storage, 'bob')).toHaveLength(1)
    }
    await lost(memoryStorage())
    // A Web Storage (localStorage) has no keys() but key(i) and length.
    const entries = new Map<string, string>()
    await lost({
      entries,
      getItem: (key) => entries.get(key) ?? null,
      setItem: (key, value) => void entries.set(key, value),
      removeItem: (key) => void entries.delete(key),
      get length() {
        return entries.size
      },
      key: (index: number) => [...entries.keys()][index] ?? null,
    } as PersistStorage & { entries: Map<string, string> })
  })

  it('clearPersisted drops a throttled write that was still pending', async () => {
    const storage = memoryStorage()
    const { server, clock, client } = page(storage, { throttleMs: 1000 })
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    expect(clock.nextTimerAt()).toBeDefined()
    await client.clearPersisted()
    expect(storage.entries.size).toBe(0)
    clock.advance(5000)
    await Promise.resolve()
    expect(storage.entries.size).toBe(0)
    release()
    client.dispose()
  })

  it('after clearPersisted, closing the shapes writes back none of the rows they held at the clear (a throttled change, a later sync time)', async () => {
    const storage = memoryStorage()
    const { server, clock, client } = page(storage, { throttleMs: 1000 })
    const shape = client.shape(items())
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [row(1, 'one', '1')] }))
    await shape.whenUpToDate()
    const live = await server.nextRequest()
    const changed = nextChange(shape)
    live.respond(liveResponse({ requestOffset: '0_inf', offset: '2_0', cursor: '2', lsn: '2', messages: [change({ operation: 'insert', id: 2, title: 'two', lsn: '2', opPosition: 0, last: true })] }))
    await changed
    clock.advance(500)
    expect(clock.nextTimerAt()).toBeDefined()
    const quiet = await server.nextRequest()
    quiet.respond(liveResponse({ requestOffset: '2_0', offset: '2_0', cursor: '3', lsn: '2', messages: [] }))
    await statusWhere(shape, (status) => status.cursor === '3')
    await client.clearPersisted()
    expect(storage.entries.size).toBe(0)
    await client.flushPersisted()
    release()
    client.dispose()
    await client.flushPersisted()
    expect([...storage.entries.keys()]).toEqual([])
  })

  it('a storage whose read fails: a status warning, the shape syncs from the network, nothing thrown', async () => {
    spyWarn()
    const failing: PersistStorage = { getItem: () => Promise.reject(new Error('disk gone')), setItem: () => undefined, removeItem: () => undefined }
    const { server, client } = page(failing)
    const shape = client.shape(items())
    const release = shape.retain()
    const request = await server.nextRequest()
    expect(request.params.get('offset')).toBe('-1')
    expect(shape.getStatus().warning).toMatch(/disk gone/)
    release()
    client.dispose()
  })

  it('dispose during an async read leaves no timer, and the read landing later changes nothing', async () => {
    let answer: ((text: string | null) => void) | undefined
    const slow: PersistStorage = { getItem: () => new Promise((resolve) => (answer = resolve)), setItem: () => undefined, removeItem: () => undefined }
    const { server, clock, client } = page(slow)
    const shape = client.shape(items())
    shape.retain()
    client.dispose()
    expect(clock.pendingTimers).toBe(0)
    answer?.(null)
    await Promise.resolve()
    expect(server.requests).toHaveLength(0)
    expect(clock.pendingTimers).toBe(0)
  })

  it('refuses bad persist options with a typed error', () => {
    expect(() => new ShapeClient({ persist: { storage: {} as PersistStorage } })).toThrow(InvalidOptionsError)
    expect(() => new ShapeClient({ persist: { storage: memoryStorage(), namespace: '' } })).toThrow(InvalidOptionsError)
    expect(() => new ShapeClient({ persist: { storage: memoryStorage(), maxAgeMs: -1 } })).toThrow(InvalidOptionsError)
  })
})
