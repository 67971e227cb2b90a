/**
 * Page loads of a persisting client for core tests: a `ShapeClient` on a fake server and a manual clock, writing to a
 * given storage, and a first load that syncs `items` and leaves its entry in storage.
 */
import { expect } from 'vitest'
import type { Message, Row, Schema, WireRow } from '../../../src/core/protocol'
import type { PersistOptions } from '../../../src/core/persist/shapePersister'
import type { MemoryStorage, PersistStorage } from '../../../src/core/persist/persistStorage'
import type { ConnectivityAdapter } from '../../../src/core/connectivity'
import { ShapeClient } from '../../../src/core/shapeClient'
import type { ShapeOptions } from '../../../src/core/shapeOptions'
import type { Shape } from '../../../src/core/shape'
import { catchUpResponse, change, FakeShapeServer, keyOf, liveResponse } from './fakeShapeServer'
import { ManualClock } from './manualClock'

export const url = 'http://localhost:3000/v1/shape'
export const items = (): ShapeOptions => ({ url, params: { table: 'items' } })
export const SCHEMA: Schema = { id: { type: 'int4', pk_index: 0, not_null: true }, title: { type: 'text' }, big: { type: 'int8' } }

export function row(id: number, title: string, big: string): Message<WireRow> {
  return { key: keyOf(id), value: { id: String(id), title, big }, headers: { operation: 'insert', relation: ['public', 'items'] } }
}

/** One "page load": a client on a fake server and a manual clock, persisting to `storage`. */
export function page(storage: PersistStorage, persist: Partial<PersistOptions> = {}, clock = new ManualClock(), connectivity?: ConnectivityAdapter) {
  const server = new FakeShapeServer()
  const client = new ShapeClient({
    fetch: server.fetch,
    clock,
    random: () => 0.5,
    visibility: null,
    ...(connectivity ? { connectivity } : {}),
    persist: { storage, pageHide: null, ...persist },
  })
  return { server, clock, client }
}

export function nextChange(shape: Shape<Row>): Promise<void> {
  return new Promise((resolve) => {
    const off = shape.subscribe(() => {
      off()
      resolve()
    })
  })
}

/** First load: syncs `items` (two rows, one int8 past 2^53), then one live insert; flushed to storage. */
export async function firstLoad(storage: PersistStorage, persist: Partial<PersistOptions> = {}) {
  const first = page(storage, persist)
  const shape = first.client.shape(items())
  const release = shape.retain()
  const initial = await first.server.nextRequest()
  expect(initial.params.get('offset')).toBe('-1')
  initial.respond(
    catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '10', schema: SCHEMA, messages: [row(1, 'one', '9007199254740993'), row(2, 'two', '-2')] }),
  )
  await shape.whenUpToDate()
  const live = await first.server.nextRequest()
  const changed = nextChange(shape)
  live.respond(
    liveResponse({ requestOffset: '0_inf', offset: '20_0', cursor: '4242', lsn: '20', messages: [change({ operation: 'insert', id: 3, title: 'three', lsn: '20', opPosition: 0, last: true })] }),
  )
  await changed
  await first.client.flushPersisted()
  const rows = shape.getSnapshot().data
  release()
  first.client.dispose()
  await first.client.flushPersisted()
  return { rows, first }
}

export function entryKeys(storage: MemoryStorage, namespace = 'default'): string[] {
  return [...storage.entries.keys()].filter((key) => key.startsWith(`live-shapes/${namespace}/shape/`))
}
