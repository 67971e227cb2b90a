/**
 * Status listeners are isolated like row listeners: one that throws stops neither the others nor the stream.
 */
import { describe, expect, it } from 'vitest'
import type { Message, Schema, WireRow } from '../../src/core/protocol'
import { ShapeClient } from '../../src/core/shapeClient'
import type { ShapeOptions } from '../../src/core/shapeOptions'
import { catchUpResponse, change, FakeShapeServer } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'

const items = (): ShapeOptions => ({ url: 'http://localhost:3000/v1/shape', params: { table: 'items' } })
const SCHEMA: Schema = { id: { type: 'int4', pk_index: 0, not_null: true }, title: { type: 'text' } }
const row = (id: number, title: string): Message<WireRow> => change({ operation: 'insert', id, title, lsn: '1', opPosition: id, last: false })
describe('status listeners', () => {
  it('a status listener that throws stops neither the other listeners nor the stream', async () => {
    const server = new FakeShapeServer()
    const client = new ShapeClient({ fetch: server.fetch, clock: new ManualClock(), random: () => 0.5, visibility: null })
    const shape = client.shape(items())
    const thrown: unknown[] = []
    const onUncaught = (error: unknown): void => void thrown.push(error)
    process.on('uncaughtException', onUncaught)
    const seen: string[] = []
    const offBad = shape.subscribeStatus(() => {
      throw new Error('a broken badge')
    })
    const offGood = shape.subscribeStatus(() => seen.push(shape.getStatus().phase))
    const release = shape.retain()
    const initial = await server.nextRequest()
    initial.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', schema: SCHEMA, messages: [row(1, 'one')] }))
    await shape.whenUpToDate()
    const live = await server.nextRequest()
    expect(live.params.get('live')).toBe('true')
    expect(seen).toContain('live')
    await new Promise<void>((resolve) => setImmediate(resolve))
    process.off('uncaughtException', onUncaught)
    expect(thrown.length).toBeGreaterThan(0)
    offBad()
    offGood()
    release()
    client.dispose()
  })
})
