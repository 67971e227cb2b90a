import { describe, expect, it } from 'vitest'
import { FetchError } from '../../src/core/errors'
import type { Message, Row, Schema, WireRow } from '../../src/core/protocol'
import type { ShapeOptions } from '../../src/core/shapeOptions'
import { ShapeClient } from '../../src/core/shapeClient'
import { DehydratedStateError } from '../../src/core/dehydratedStateError'
import { decodeDehydratedValue, encodeDehydratedValue } from '../../src/core/dehydratedValue'
import type { DehydratedState } from '../../src/core/hydration'
import { dehydrate, dehydrateShapes, hydrate, parseDehydratedState, prefetchShape, serializeDehydratedState } from '../../src/core/hydration'
import { badRequestResponse, catchUpResponse, FakeShapeServer, HANDLE, liveResponse } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { exposeGc, liveTargets } from '../react/support/heapGauge'

const url = 'http://localhost:3000/v1/shape'
const SCHEMA: Schema = {
  id: { type: 'int4', pk_index: 0, not_null: true },
  big: { type: 'int8' },
  doc: { type: 'jsonb' },
  tags: { type: 'text', dims: 1 },
  note: { type: 'text' },
  ratio: { type: 'float8' },
}

const keyOf = (id: number): string => `"public"."things"/"${id}"`

function insert(id: number, value: Omit<WireRow, 'id'>): Message<WireRow> {
  return { key: keyOf(id), value: { id: String(id), ...value }, headers: { operation: 'insert', relation: ['public', 'things'] } }
}

function setup() {
  const server = new FakeShapeServer()
  const clock = new ManualClock()
  const client = new ShapeClient({ fetch: server.fetch, clock, random: () => 0.5, visibility: null })
  return { server, clock, client }
}

const things = (): ShapeOptions => ({ url, params: { table: 'things', where: 'id > $1', params: ['0'] }, log: 'full' })

const ROW_1 = {
  big: '9007199254740993',
  doc: '{"$ls":"not a tag","nested":[1,{"b":null}],"__proto__":{"polluted":true}}',
  tags: '{a,"b c",NULL}',
  note: null,
  ratio: 'NaN',
}
const ROW_2 = { big: '-42', doc: '[]', tags: '{}', note: '</script><script>alert(1)</script>\u2028\u2029 & <!--', ratio: '-Infinity' }

/** A server-side client synced to the first up-to-date, then one live batch (so the cursor is set). */
async function serverState(): Promise<{ state: DehydratedState; rows: unknown }> {
  const { server, client } = setup()
  const prefetched = prefetchShape(client, things())
  const first = await server.nextRequest()
  expect(first.params.get('offset')).toBe('-1')
  first.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', schema: SCHEMA, messages: [insert(1, ROW_1)] }))
  await prefetched
  const shape = client.shape(things())
  const changed = new Promise<void>((resolve) => {
    const off = shape.subscribe(() => {
      off()
      resolve()
    })
  })
  const live = await server.nextRequest()
  expect(live.params.get('live')).toBe('true')
  live.respond(liveResponse({ requestOffset: '0_inf', offset: '20_0', cursor: '4242', lsn: '20', messages: [insert(2, ROW_2)] }))
  await changed
  const state = dehydrate(client)
  const rows = shape.getSnapshot().data
  client.dispose()
  return { state, rows }
}

describe('dehydrate / hydrate', () => {
  it('round-trips rows (bigint, jsonb, arrays, null, NaN) through HTML-safe JSON and resumes live without a request before', async () => {
    const { state, rows } = await serverState()
    expect(state.shapes).toHaveLength(1)
    expect(state.shapes[0]?.position).toEqual({ handle: HANDLE, offset: '20_0', cursor: '4242', schema: SCHEMA })
    expect(state.shapes[0]?.options).toEqual({ url, params: { table: 'things', where: 'id > $1', params: ['0'] }, log: 'full' })

    const text = serializeDehydratedState(state)
    expect(text).not.toMatch(/[<>&\u2028\u2029]/)
    const parsed = parseDehydratedState(text)
    expect(parsed).toEqual(state)

    const browser = setup()
    hydrate(browser.client, parsed)
    const shape = browser.client.shape(things())
    const snapshot = shape.getSnapshot()
    expect(snapshot.isUpToDate).toBe(true)
    expect(snapshot.data).toEqual(rows)
    const first = snapshot.rows.get(keyOf(1)) as Row
    expect(first['big']).toBe(9007199254740993n)
    expect(Object.getPrototypeOf(first['doc'])).toBe(Object.prototype)
    expect(first['doc']).toEqual(JSON.parse(ROW_1.doc))
    expect(Object.keys(first['doc'] as object)).toContain('__proto__')
    expect(first['tags']).toEqual(['a', 'b c', null])
    expect(first['note']).toBeNull()
    expect(first['ratio']).toBeNaN()
    expect((snapshot.rows.get(keyOf(2)) as Row)['note']).toBe(ROW_2.note)
    expect(shape.getStatus()).toMatchObject({ phase: 'idle', isUpToDate: true, handle: HANDLE, offset: '20_0', lastSyncedAt: state.shapes[0]?.lastSyncedAt })
    expect(browser.server.requests).toHaveLength(0)

    const release = shape.retain()
    const request = await browser.server.nextRequest()
    expect(Object.fromEntries(request.params)).toMatchObject({ live: 'true', handle: HANDLE, offset: '20_0', cursor: '4242' })
    const changed = new Promise<void>((resolve) => shape.subscribe(resolve))
    const update: Message<WireRow> = { key: keyOf(1), value: { id: '1', big: '7' }, headers: { operation: 'update', lsn: '30', op_position: 0, last: true } }
    request.respond(liveResponse({ requestOffset: '20_0', offset: '30_0', cursor: '4300', lsn: '30', messages: [update] }))
    await changed
    expect((shape.getRow(keyOf(1)) as Row)['big']).toBe(7n)
    const next = await browser.server.nextRequest()
    expect(Object.fromEntries(next.params)).toMatchObject({ live: 'true', offset: '30_0', cursor: '4300' })
    release()
    browser.client.dispose()
  })

  it('carries lazyJson, so the browser finds the hydrated shape under the same definition; rows hold parsed values', async () => {
    const server = setup()
    const options: ShapeOptions = { ...things(), lazyJson: true }
    const shape = server.client.shape(options)
    const release = shape.retain()
    const request = await server.server.nextRequest()
    request.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', schema: SCHEMA, messages: [insert(1, ROW_1)] }))
    await shape.whenUpToDate()
    expect(Object.getOwnPropertyDescriptor(shape.getRow(keyOf(1)), 'doc')?.get).toBeTypeOf('function')
    const state = parseDehydratedState(serializeDehydratedState(dehydrate(server.client)))
    expect(state.shapes[0]?.options).toMatchObject({ lazyJson: true })
    release()
    server.client.dispose()

    const browser = setup()
    hydrate(browser.client, state)
    const hydrated = browser.client.shape(options)
    expect(hydrated.getSnapshot().isUpToDate).toBe(true)
    expect((hydrated.getRow(keyOf(1)) as Row)['doc']).toEqual(JSON.parse(ROW_1.doc))
    expect(browser.client.shape(things()).getSnapshot().isUpToDate).toBe(false)
    expect(() => parseDehydratedState(serializeDehydratedState({ ...state, shapes: [{ ...state.shapes[0]!, options: { ...state.shapes[0]!.options, lazyJson: 'yes' as never } }] }))).toThrow(DehydratedStateError)
    browser.client.dispose()
  })

  it('keeps the newer data of a shape the client already has, and never touches a running one', async () => {
    const { state } = await serverState()
    const entry = state.shapes[0]!
    const older: DehydratedState = { version: 1, shapes: [{ ...entry, position: { ...entry.position, offset: '15_0' }, rows: [] }] }
    const newer: DehydratedState = { version: 1, shapes: [{ ...entry, position: { ...entry.position, offset: '25_0' }, rows: entry.rows.slice(0, 1) }] }

    const browser = setup()
    hydrate(browser.client, state)
    const shape = browser.client.shape(things())
    const hydrated = shape.getSnapshot()
    hydrate(browser.client, older)
    expect(shape.getSnapshot()).toBe(hydrated)
    expect(shape.getStatus().offset).toBe('20_0')
    hydrate(browser.client, newer)
    expect(shape.getSnapshot().keys).toEqual([keyOf(1)])
    expect(shape.getStatus().offset).toBe('25_0')

    const release = shape.retain()
    const request = await browser.server.nextRequest()
    expect(request.params.get('offset')).toBe('25_0')
    const running = shape.getSnapshot()
    hydrate(browser.client, { version: 1, shapes: [{ ...entry, position: { ...entry.position, offset: '99_0' } }] })
    expect(shape.getSnapshot()).toBe(running)
    expect(shape.getStatus().offset).toBe('25_0')
    expect(browser.server.requests).toHaveLength(1)
    release()
    browser.client.dispose()
  })

  it('between two handles keeps the one synced last', async () => {
    const { state } = await serverState()
    const entry = state.shapes[0]!
    const at = entry.lastSyncedAt ?? 0
    const browser = setup()
    hydrate(browser.client, state)
    const shape = browser.client.shape(things())
    const stale: DehydratedState = { version: 1, shapes: [{ ...entry, position: { ...entry.position, handle: 'old' }, lastSyncedAt: at - 1, rows: [] }] }
    hydrate(browser.client, stale)
    expect(shape.getStatus().handle).toBe(HANDLE)
    expect(shape.getSnapshot().keys).toHaveLength(2)
    const fresh: DehydratedState = { version: 1, shapes: [{ ...entry, position: { handle: 'new', offset: '0_inf' }, lastSyncedAt: at + 1, rows: [] }] }
    hydrate(browser.client, fresh)
    expect(shape.getStatus()).toMatchObject({ handle: 'new', offset: '0_inf', cursor: undefined, isUpToDate: true })
    expect(shape.getSnapshot().keys).toEqual([])
  })

  it('dehydrateShapes prefetches on a client of its own and disposes it', async () => {
    const server = new FakeShapeServer()
    const clock = new ManualClock()
    const pending = dehydrateShapes([things()], { client: { fetch: server.fetch, clock, random: () => 0.5 } })
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [insert(1, ROW_1)] }))
    const state = await pending
    expect(state.shapes.map((shape) => shape.rows.map(([key]) => key))).toEqual([[keyOf(1)]])
    // Released shapes would wait out their grace period on a timer; a disposed client leaves none.
    expect(clock.pendingTimers).toBe(0)
    expect(server.inFlight).toBe(0)
  })

  it('re-attaches options that were not dehydrated (headers) so the components find the hydrated shape', async () => {
    const { state } = await serverState()
    const browser = setup()
    const headers = { Authorization: 'Bearer t' }
    hydrate(browser.client, state, { shapeOptions: () => ({ headers }) })
    expect(browser.client.find({ ...things(), headers })?.getSnapshot().isUpToDate).toBe(true)
    expect(browser.client.find(things())).toBeUndefined()
  })

  it('refuses garbage with a typed error and hydrates nothing', async () => {
    const { state } = await serverState()
    const entry = state.shapes[0]!
    for (const text of ['not json', '[]', '{"version":2,"shapes":[]}', '{"version":1}', '{"version":1,"shapes":[{}]}']) {
      expect(() => parseDehydratedState(text)).toThrow(DehydratedStateError)
    }
    const withPosition = (position: object) => JSON.stringify({ version: 1, shapes: [{ ...entry, position }] })
    expect(() => parseDehydratedState(withPosition({ handle: HANDLE, offset: '-1' }))).toThrow(/position\.offset/)
    expect(() => parseDehydratedState(withPosition({ handle: '', offset: '0_0' }))).toThrow(/position\.handle/)

    const browser = setup()
    const badRow: DehydratedState = {
      version: 1,
      shapes: [entry, { ...entry, options: { ...entry.options, params: { table: 'other' } }, rows: [['k', { v: { $ls: 'bogus' } }]] }],
    }
    expect(() => hydrate(browser.client, badRow)).toThrow(DehydratedStateError)
    expect(() => hydrate(browser.client, badRow)).toThrow(/shapes\[1\]\.rows\[0\]\[1\]\.v/)
    expect(browser.client.size).toBe(0)
    expect(() => hydrate(browser.client, { version: 1, shapes: [{ ...entry, options: { url, params: { table: 't', offset: '1_1' } } }] })).toThrow(
      /reserved/,
    )
    expect(browser.client.size).toBe(0)
  })

  it('refuses to dehydrate a value the encoding cannot carry unless serializeValue converts it', async () => {
    const { server, client } = setup()
    const options: ShapeOptions<{ when: Map<string, string> }> = { url, params: { table: 'things' }, transformer: () => ({ when: new Map([['a', 'b']]) }) }
    const prefetched = prefetchShape(client, options)
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', schema: SCHEMA, messages: [insert(1, ROW_1)] }))
    await prefetched
    expect(() => dehydrate(client)).toThrow(/shapes\[0\]\.rows\[0\]\[1\]\.when: cannot encode a Map/)
    const state = dehydrate(client, { serializeValue: (value) => (value instanceof Map ? { map: [...value] } : value) })
    expect(state.shapes[0]?.rows[0]?.[1]).toEqual({ when: { map: [['a', 'b']] } })
    client.dispose()
  })

  it('does not dehydrate shapes that are not up to date, nor those with function params', async () => {
    const { server, client } = setup()
    const release = client.shape(things()).retain()
    client.shape({ url, params: { table: 'things', where: () => 'id > 1' } })
    await server.nextRequest()
    expect(dehydrate(client).shapes).toEqual([])
    release()
    client.dispose()
  })

  it('prefetchShape rejects with the typed error the stream stopped on', async () => {
    const { server, client } = setup()
    const prefetched = prefetchShape(client, things())
    ;(await server.nextRequest()).respond(badRequestResponse({ where: ['unknown column'] }))
    await expect(prefetched).rejects.toBeInstanceOf(FetchError)
    client.dispose()
  })

  it('prefetchShape stops waiting when its signal aborts', async () => {
    const { server, client } = setup()
    const controller = new AbortController()
    const prefetched = prefetchShape(client, things(), { signal: controller.signal })
    await server.nextRequest()
    controller.abort(new Error('request timed out'))
    await expect(prefetched).rejects.toThrow('request timed out')
    client.dispose()
  })
})

describe('dehydrated value encoding', () => {
  it('round-trips what JSON cannot hold, and escapes objects that look like tags', () => {
    const value = {
      big: -12345678901234567890n,
      numbers: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1.5],
      missing: undefined,
      holes: [undefined, null],
      when: new Date('2024-02-03T04:05:06.007Z'),
      tagLike: { $ls: 'bigint', v: '1' },
      nested: { $ls: { $ls: 'undefined' } },
    }
    const encoded = JSON.parse(JSON.stringify(encodeDehydratedValue(value, 'v'))) as unknown
    const decoded = decodeDehydratedValue(encoded, 'v') as typeof value
    expect(decoded).toEqual(value)
    expect(Object.is(decoded.numbers[3], -0)).toBe(true)
    expect(Object.hasOwn(decoded, 'missing')).toBe(true)
    expect(decoded.tagLike).toEqual({ $ls: 'bigint', v: '1' })
  })

  it('names the path of an unencodable value and of a cycle', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(() => encodeDehydratedValue({ a: [() => 1] }, 'row')).toThrow(/row\.a\[0\]: cannot encode a function/)
    expect(() => encodeDehydratedValue(cyclic, 'row')).toThrow(/row\.self: a value refers to itself/)
    const shared = { x: 1 }
    expect(decodeDehydratedValue(encodeDehydratedValue({ a: shared, b: shared }, 'row'), 'row')).toEqual({ a: shared, b: shared })
  })

  it('applies serializeValue and deserializeValue to every value', () => {
    class Money {
      constructor(readonly cents: string) {}
    }
    const serialize = (v: unknown): unknown => (v instanceof Money ? { money: v.cents } : v)
    const deserialize = (v: unknown): unknown =>
      typeof v === 'object' && v !== null && 'money' in v ? new Money(String((v as { money: unknown }).money)) : v
    const encoded = encodeDehydratedValue({ price: new Money('1999'), list: [new Money('1')] }, 'row', serialize)
    expect(decodeDehydratedValue(encoded, 'row', deserialize)).toEqual({ price: new Money('1999'), list: [new Money('1')] })
  })
})

describe('a server render’s client, dropped with the response', () => {
  it('is collected with its hydrated shapes at once, not kept with their rows until the unused-shape timer fires', async () => {
    const { state } = await serverState()
    const gc = exposeGc()
    const refs: Array<WeakRef<object>> = []
    const timers: Array<ReturnType<typeof setTimeout>> = []
    // The platform clock's timers, recorded so the test can clear them: what a server's event loop would hold.
    const clock = {
      now: () => Date.now(),
      setTimeout: (callback: () => void, ms: number) => {
        const handle = setTimeout(callback, ms)
        timers.push(handle)
        return handle
      },
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    ;(() => {
      // A client component's `useState(() => new ShapeClient())` on a server: hydrated from the server's state,
      // rendered, never retained (effects do not run on a server) and never disposed.
      const client = new ShapeClient({ fetch: new FakeShapeServer().fetch, clock, visibility: null })
      hydrate(client, state)
      const shape = client.shape(things())
      expect(shape.getSnapshot().data).toHaveLength(2)
      refs.push(new WeakRef(client), new WeakRef(shape))
    })()
    expect(timers.length).toBeGreaterThan(0)
    try {
      expect(await liveTargets(gc, refs)).toBe(0)
    } finally {
      for (const handle of timers) clearTimeout(handle)
    }
  })
})
