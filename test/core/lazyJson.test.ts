import { describe, expect, it } from 'vitest'
import { snakeCamelMapper } from '../../src/core/columnMapper'
import { NullValueError, ValueParseError } from '../../src/core/errors'
import { createMessageParser } from '../../src/core/parse'
import type { Message, Row, Schema, WireRow } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'

const schema: Schema = {
  id: { type: 'int8', pk_index: 0, not_null: true },
  title: { type: 'text' },
  payload: { type: 'jsonb' },
  meta_data: { type: 'json' },
  tags: { type: 'jsonb', dims: 1 },
  rank: { type: 'int4' },
}
const wire = (id: number, payload = '{"owner":"ann","tags":["a","b"],"n":1}'): WireRow => ({
  id: String(id),
  title: `t${id}`,
  payload,
  meta_data: '[1,2]',
  tags: '{"{\\"x\\":1}"}',
  rank: '3',
})
const insert = (row: WireRow): Message<WireRow> => ({ key: `k${row['id']}`, value: row, headers: { operation: 'insert' } })
const upToDate: Message<WireRow> = { headers: { control: 'up-to-date', global_last_seen_lsn: '1' } }

describe('lazyJson (parse.ts, lazyColumn.ts)', () => {
  it('reads exactly like eager parsing: values, key order, spread and JSON.stringify', () => {
    const eager = createMessageParser(schema).parseValue(wire(1))
    const lazy = createMessageParser(schema, { lazyJson: true }).parseValue(wire(1))
    const withoutBigInt = (row: Row) => JSON.stringify({ ...row, id: String(row['id']) })
    expect(Object.keys(lazy)).toEqual(Object.keys(eager))
    expect(Object.getOwnPropertyDescriptor(lazy, 'payload')?.get).toBeTypeOf('function')
    expect(Object.getOwnPropertyDescriptor(lazy, 'meta_data')?.get).toBeTypeOf('function')
    expect(withoutBigInt(lazy)).toBe(withoutBigInt(eager))
    expect({ ...lazy }).toEqual(eager)
    expect(lazy).toEqual(eager)
  })

  it('parses once, on first read, then holds a plain data property', () => {
    const row = createMessageParser(schema, { lazyJson: true }).parseValue(wire(1))
    const first = row['payload']
    expect(first).toEqual({ owner: 'ann', tags: ['a', 'b'], n: 1 })
    expect(row['payload']).toBe(first)
    expect(Object.getOwnPropertyDescriptor(row, 'payload')).toEqual({ value: first, writable: true, enumerable: true, configurable: true })
    // The text is dropped once parsed, and never shows up as a key.
    const symbols = Object.getOwnPropertySymbols(row).map((symbol) => (row as Record<symbol, unknown>)[symbol])
    expect(symbols).toContain(undefined)
    expect(symbols).toContain('[1,2]')
    expect(Object.keys(row)).not.toContain(expect.stringMatching(/lazy/))
  })

  it('only json/jsonb scalars are deferred: arrays and other types parse on arrival', () => {
    const row = createMessageParser(schema, { lazyJson: true }).parseValue(wire(1))
    for (const column of ['id', 'title', 'tags', 'rank']) {
      expect(Object.getOwnPropertyDescriptor(row, column)?.get, column).toBeUndefined()
    }
    expect(row['tags']).toEqual([{ x: 1 }])
    expect(row['id']).toBe(1n)
  })

  it('null and not_null are still checked on arrival; null stays a plain null', () => {
    const parser = createMessageParser({ payload: { type: 'jsonb', not_null: true } }, { lazyJson: true })
    expect(() => parser.parseValue({ payload: null })).toThrow(NullValueError)
    const nullable = createMessageParser({ payload: { type: 'jsonb' } }, { lazyJson: true }).parseValue({ payload: null })
    expect(Object.getOwnPropertyDescriptor(nullable, 'payload')).toMatchObject({ value: null })
  })

  it('a value that is not JSON throws a typed ValueParseError at each read, and the batch itself is accepted', () => {
    const parser = createMessageParser(schema, { lazyJson: true })
    const [message] = parser.parseMessages([insert(wire(1, '{oops'))])
    const row = (message as { value: Row }).value
    expect(row['title']).toBe('t1')
    expect(() => row['payload']).toThrow(ValueParseError)
    try {
      void row['payload']
    } catch (error) {
      expect(error).toMatchObject({ column: 'payload' })
      expect((error as Error).message).toContain('jsonb')
    }
  })

  it('uses a user parser for the type, lazily', () => {
    let calls = 0
    const parser = createMessageParser(schema, {
      lazyJson: true,
      parser: {
        jsonb: (text) => {
          calls += 1
          return { wrapped: text }
        },
      },
    })
    const row = parser.parseValue(wire(1))
    expect(calls).toBe(1) // the jsonb[] column's element, which is not deferred
    expect(row['payload']).toEqual({ wrapped: '{"owner":"ann","tags":["a","b"],"n":1}' })
    expect(calls).toBe(2)
  })

  it('with a columnMapper, the renamed key is the lazy one', () => {
    const row = createMessageParser(schema, { lazyJson: true, columnMapper: snakeCamelMapper() }).parseValue(wire(1))
    expect(Object.keys(row)).toEqual(['id', 'title', 'payload', 'metaData', 'tags', 'rank'])
    expect(Object.getOwnPropertyDescriptor(row, 'metaData')?.get).toBeTypeOf('function')
    expect(row['metaData']).toEqual([1, 2])
  })

  it('assigning the property replaces the lazy value', () => {
    const row = createMessageParser(schema, { lazyJson: true }).parseValue(wire(1))
    row['payload'] = { replaced: true }
    expect(row['payload']).toEqual({ replaced: true })
    expect(Object.getOwnPropertyDescriptor(row, 'payload')?.get).toBeUndefined()
  })

  it('the store merges updates into lazy rows without losing or re-parsing untouched JSON', () => {
    const parser = createMessageParser(schema, { lazyJson: true })
    const store = new ShapeStore<Row>()
    store.applyBatch(parser.parseMessages([insert(wire(1)), insert(wire(2)), upToDate]))
    const before = store.getRow('k1') as Row
    const update: Message<WireRow> = { key: 'k1', value: { id: '1', title: 'renamed' }, headers: { operation: 'update' } }
    store.applyBatch(parser.parseMessages([update, upToDate]))
    const after = store.getRow('k1') as Row
    expect(after).not.toBe(before)
    expect(after['title']).toBe('renamed')
    expect(after['payload']).toEqual({ owner: 'ann', tags: ['a', 'b'], n: 1 })
    expect(after['payload']).toBe(before['payload'])
    // The other row was not touched, so its JSON is still text.
    expect(Object.getOwnPropertyDescriptor(store.getRow('k2'), 'payload')?.get).toBeTypeOf('function')
  })
})
