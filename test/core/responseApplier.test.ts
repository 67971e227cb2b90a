import { describe, expect, it } from 'vitest'
import { MalformedResponseError } from '../../src/core/errors'
import type { Message, Row, WireRow } from '../../src/core/protocol'
import type { RequestPosition } from '../../src/core/requestUrl'
import type { ResponseMeta } from '../../src/core/responseMeta'
import { ResponseApplier } from '../../src/core/responseApplier'
import { ShapeStore } from '../../src/core/shapeStore'
import { initialStreamState } from '../../src/core/streamState'

const url = 'http://x/v1/shape'
const INT8 = JSON.stringify({ id: { type: 'int8', pk_index: 0 }, n: { type: 'int8' } })
const TEXT = JSON.stringify({ id: { type: 'int8', pk_index: 0 }, n: { type: 'text' } })

const meta = (init: Partial<ResponseMeta> = {}): ResponseMeta => ({
  kind: 'ok',
  status: 200,
  handle: 'h1',
  offset: '0_0',
  cursor: undefined,
  schema: INT8,
  upToDate: false,
  hasData: true,
  ...init,
})
const position = (init: Partial<RequestPosition> = {}): RequestPosition => ({
  offset: '-1',
  handle: undefined,
  live: false,
  cursor: undefined,
  cacheBuster: undefined,
  expiredHandle: undefined,
  ...init,
})
const ins = (id: number): Message<WireRow> => ({ key: `"k${id}"`, value: { id: String(id), n: String(id * 10) }, headers: { operation: 'insert' } })
const utd: Message<WireRow> = { headers: { control: 'up-to-date' } }

const open = new AbortController().signal

function setup() {
  const store = new ShapeStore<Row>()
  return { store, applier: new ResponseApplier<Row>(store, {}) }
}

describe('ResponseApplier', () => {
  it("parses a response's staged groups and its last part with the one schema of its headers", () => {
    const { store, applier } = setup()
    const reading = applier.begin(initialStreamState(), open)
    const response = meta({ upToDate: true })
    expect(reading.stager(response)([ins(1), ins(2)])).toBe(true)
    const event = applier.applyResponse(reading, { meta: response, messages: [ins(3)] }, position(), url, () => 5)
    expect(event).toMatchObject({ type: 'response', handle: 'h1', offset: '0_0', upToDate: true, now: 5 })
    expect(reading.schemaOf(response)).toBe(event.type === 'response' ? event.schema : undefined)
    expect([...store.getSnapshot().rows.values()].map((row) => row.n)).toEqual([10n, 20n, 30n])
  })

  it("keeps the state's schema for a response that continues its handle, and takes the header's for a new handle", () => {
    const { store, applier } = setup()
    const first = applier.begin(initialStreamState(), open)
    const event = applier.applyResponse(first, { meta: meta(), messages: [ins(1)] }, position(), url, () => 0)
    const schema = event.type === 'response' ? event.schema : undefined
    const state = initialStreamState({ handle: 'h1', offset: '0_0', schema })
    // Same handle, another header: the state's int8 schema still applies.
    const same = applier.begin(state, open)
    applier.applyResponse(same, { meta: meta({ schema: TEXT, offset: '0_1', upToDate: true }), messages: [ins(2)] }, position({ offset: '0_0', handle: 'h1' }), url, () => 0)
    expect(store.getRow('"k2"')?.n).toBe(20n)
    // A new handle: its header's text schema.
    const other = applier.begin(state, open)
    expect(other.schemaOf(meta({ handle: 'h2', schema: TEXT }))?.n?.type).toBe('text')
  })

  it('keeps what a response staged when it applies, and discard reverts it exactly', () => {
    const { store, applier } = setup()
    const kept = applier.begin(initialStreamState(), open)
    kept.stager(meta())([ins(1)])
    applier.applyResponse(kept, { meta: meta(), messages: [] }, position(), url, () => 0)
    const failed = applier.begin(initialStreamState({ handle: 'h1', offset: '0_0' }), open)
    failed.stager(meta({ offset: '0_1' }))([ins(2), ins(3)])
    applier.discard()
    store.applyBatch([utd])
    expect([...store.getSnapshot().keys]).toEqual(['"k1"'])
  })

  it('declines a group holding a control message, staging none of it', () => {
    const { store, applier } = setup()
    const reading = applier.begin(initialStreamState(), open)
    expect(reading.stager(meta())([ins(1), utd])).toBe(false)
    store.applyBatch([utd])
    expect(store.getSnapshot().rows.size).toBe(0)
  })

  it('refuses a non-live response without progress and a non-live 304; a live 304 is up to date', () => {
    const { applier } = setup()
    const at = position({ offset: '0_0', handle: 'h1' })
    const reading = applier.begin(initialStreamState({ handle: 'h1', offset: '0_0' }), open)
    expect(() => applier.applyResponse(reading, { meta: meta(), messages: [] }, at, url, () => 0)).toThrow(MalformedResponseError)
    expect(() => applier.notModified({ cursor: undefined, handle: undefined }, at, url, 0)).toThrow(/304/)
    expect(applier.notModified({ cursor: '7', handle: undefined }, { ...at, live: true }, url, 9)).toEqual({
      type: 'response',
      handle: 'h1',
      offset: '0_0',
      cursor: '7',
      schema: undefined,
      upToDate: true,
      now: 9,
    })
  })

  it('applies a live batch with the state schema and appends no up-to-date of its own', () => {
    const { store, applier } = setup()
    const first = applier.begin(initialStreamState(), open)
    const event = applier.applyResponse(first, { meta: meta({ upToDate: true }), messages: [] }, position(), url, () => 0)
    const schema = event.type === 'response' ? event.schema : undefined
    const state = initialStreamState({ handle: 'h1', offset: '0_inf', schema, upToDateSinceReset: true })
    const live = applier.applyLive(state, { messages: [ins(4), utd], offset: '5_0' }, () => 3)
    expect(live).toMatchObject({ type: 'response', handle: 'h1', offset: '5_0', upToDate: true, now: 3 })
    expect(store.getRow('"k4"')?.n).toBe(40n)
    // The batch's own up-to-date is what publishes: one without it stays pending.
    applier.applyLive(state, { messages: [ins(5)], offset: '6_0' }, () => 4)
    expect(store.getRow('"k5"')).toBeUndefined()
  })

  it('reads the event time once the batch is applied', () => {
    const { store, applier } = setup()
    let seen: unknown
    const event = applier.applyResponse(applier.begin(initialStreamState(), open), { meta: meta({ upToDate: true }), messages: [ins(1)] }, position(), url, () => {
      seen = store.getRow('"k1"')
      return 7
    })
    expect(seen).toEqual({ id: 1n, n: 10n })
    expect(event).toMatchObject({ now: 7 })
  })

  it('stages nothing once the request aborted, and reset drops the pending rows and the parser', () => {
    const { store, applier } = setup()
    const controller = new AbortController()
    const reading = applier.begin(initialStreamState(), controller.signal)
    const stage = reading.stager(meta())
    expect(stage([ins(1)])).toBe(true)
    controller.abort()
    expect(stage([ins(2)])).toBe(false)
    applier.discard()
    store.applyBatch([utd])
    expect(store.getSnapshot().rows.size).toBe(0)
    // After reset, the same handle's next response is parsed with its own header: text, not int8.
    const first = applier.applyResponse(applier.begin(initialStreamState(), open), { meta: meta(), messages: [ins(3)] }, position(), url, () => 0)
    const schema = first.type === 'response' ? first.schema : undefined
    applier.reset()
    const state = initialStreamState({ handle: 'h1', offset: '0_0' })
    applier.applyResponse(applier.begin(state, open), { meta: meta({ schema: TEXT, offset: '0_1', upToDate: true }), messages: [ins(4)] }, position({ offset: '0_0', handle: 'h1' }), url, () => 0)
    expect(schema?.n?.type).toBe('int8')
    expect(store.getRow('"k4"')?.n).toBe('40')
    expect(store.getRow('"k3"')).toBeUndefined()
  })
})
