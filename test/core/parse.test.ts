import { describe, expect, it, vi } from 'vitest'
import { createColumnMapper, snakeCamelMapper } from '../../src/core/columnMapper'
import { MalformedSchemaError, NullValueError, ValueParseError } from '../../src/core/errors'
import { createMessageParser, defaultParser, parsePgArray, parseSchemaHeader } from '../../src/core/parse'
import type { Message, Schema, WireRow } from '../../src/core/protocol'

const one = (schema: Schema, value: string | null, options = {}) =>
  createMessageParser(schema, options).parseValue({ v: value })['v' as never] as unknown

describe('default value parsers (§3.5)', () => {
  it.each([
    { type: 'int2', wire: '-12', js: -12 },
    { type: 'int4', wire: '2147483647', js: 2147483647 },
    { type: 'float4', wire: '1.5', js: 1.5 },
    { type: 'float8', wire: '1e+308', js: 1e308 },
    { type: 'float8', wire: 'Infinity', js: Infinity },
    { type: 'float8', wire: '-Infinity', js: -Infinity },
    { type: 'int8', wire: '9007199254740993', js: 9007199254740993n },
    { type: 'bool', wire: 't', js: true },
    { type: 'bool', wire: 'true', js: true },
    { type: 'bool', wire: 'f', js: false },
    { type: 'bool', wire: 'false', js: false },
    { type: 'jsonb', wire: '{"a":[1,{"b":null}]}', js: { a: [1, { b: null }] } },
    { type: 'json', wire: '"s"', js: 's' },
    { type: 'numeric', wire: '12.3400', js: '12.3400' },
    { type: 'timestamptz', wire: '2024-01-01 00:00:00+00', js: '2024-01-01 00:00:00+00' },
    { type: 'text', wire: 'hello', js: 'hello' },
    { type: 'uuid', wire: '0e9c6ad4-9d1b-4e0a-8d55-4c5f2b9c4c11', js: '0e9c6ad4-9d1b-4e0a-8d55-4c5f2b9c4c11' },
    { type: 'bytea', wire: '\\x00ff', js: '\\x00ff' },
    { type: 'my_enum', wire: 'active', js: 'active' },
  ])('$type $wire', ({ type, wire, js }) => {
    expect(one({ v: { type } }, wire)).toEqual(js)
  })

  it('reads float NaN as NaN', () => {
    expect(one({ v: { type: 'float8' } }, 'NaN')).toBeNaN()
  })

  it('keeps null for nullable columns of every type', () => {
    for (const type of ['int4', 'int8', 'bool', 'jsonb', 'text']) expect(one({ v: { type } }, null)).toBeNull()
    expect(one({ v: { type: 'int4', dims: 1 } }, null)).toBeNull()
  })

  it('exposes the defaults frozen', () => {
    expect(Object.isFrozen(defaultParser)).toBe(true)
    expect(Object.keys(defaultParser).sort()).toEqual(['bool', 'float4', 'float8', 'int2', 'int4', 'int8', 'json', 'jsonb'])
  })
})

describe('arrays (dims > 0)', () => {
  it.each([
    { type: 'int4', dims: 1, wire: '{1,NULL,3}', js: [1, null, 3] },
    { type: 'int4', dims: 1, wire: '{}', js: [] },
    { type: 'int8', dims: 1, wire: '{1,9007199254740993}', js: [1n, 9007199254740993n] },
    { type: 'int4', dims: 2, wire: '{{1,2},{3,4}}', js: [[1, 2], [3, 4]] },
    { type: 'int4', dims: 3, wire: '{{{1},{2}},{{3},{NULL}}}', js: [[[1], [2]], [[3], [null]]] },
    { type: 'bool', dims: 1, wire: '{t,f,NULL}', js: [true, false, null] },
    { type: 'text', dims: 1, wire: '{a,"b,c","{d}","NULL",NULL,""}', js: ['a', 'b,c', '{d}', 'NULL', null, ''] },
    { type: 'text', dims: 1, wire: '{"say \\"hi\\"","back\\\\slash"}', js: ['say "hi"', 'back\\slash'] },
    { type: 'text', dims: 2, wire: '{{"a}",b},{c,"d,{"}}', js: [['a}', 'b'], ['c', 'd,{']] },
    { type: 'jsonb', dims: 1, wire: '{"{\\"a\\": 1}",NULL}', js: [{ a: 1 }, null] },
    { type: 'int4', dims: 1, wire: '[0:2]={7,8,9}', js: [7, 8, 9] },
    { type: 'box', dims: 1, wire: '{(1,1),(0,0);(2,2),(1,1)}', js: ['(1,1),(0,0)', '(2,2),(1,1)'] },
  ])('$type$dims-d $wire', ({ type, dims, wire, js }) => {
    expect(one({ v: { type, dims } }, wire)).toEqual(js)
  })

  it.each(['{1,2', '1,2}', '{1,,2}', '{"a}', '{1}x', '{{1},2', '{"a\\'])('rejects the malformed literal %s', (wire) => {
    expect(() => one({ v: { type: 'text', dims: 1 } }, wire)).toThrow(ValueParseError)
  })

  it('parsePgArray keeps strings without an element parser', () => {
    expect(parsePgArray('{1,"2"}')).toEqual(['1', '2'])
  })
})

describe('createMessageParser', () => {
  const schema: Schema = {
    id: { type: 'int8', pk_index: 0, not_null: true },
    user_id: { type: 'int4' },
    done: { type: 'bool' },
    meta: { type: 'jsonb' },
  }

  it('passes columns absent from the schema through unchanged', () => {
    const row = createMessageParser(schema).parseValue({ id: '1', extra: '42' })
    expect(row).toEqual({ id: 1n, extra: '42' })
  })

  it('throws NullValueError for null in a not_null column', () => {
    const parser = createMessageParser(schema)
    expect(() => parser.parseValue({ id: null })).toThrow(NullValueError)
    expect(() => parser.parseValue({ id: null })).toThrow(/"id"/)
  })

  it('wraps a failing parser in ValueParseError with the cause', () => {
    const parser = createMessageParser(schema)
    let error: unknown
    try {
      parser.parseValue({ id: '1', meta: '{not json' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValueParseError)
    expect(error).toMatchObject({ column: 'meta', pgType: 'jsonb', retryable: false })
    expect((error as Error).cause).toBeInstanceOf(SyntaxError)
    expect(() => parser.parseValue({ id: 'abc' })).toThrow(ValueParseError)
  })

  it('names array types with brackets in ValueParseError', () => {
    expect(() => one({ v: { type: 'int8', dims: 2 } }, '{{x}}')).toThrow(expect.objectContaining({ pgType: 'int8[][]' }))
  })

  it('lets user parser entries override defaults, for columns and array elements', () => {
    const int8 = vi.fn((value: string) => Number(value))
    const parser = createMessageParser(
      { id: { type: 'int8' }, ids: { type: 'int8', dims: 1 }, at: { type: 'timestamptz' } },
      { parser: { int8, timestamptz: (v) => new Date(v) } },
    )
    const row = parser.parseValue({ id: '5', ids: '{1,2}', at: '2024-01-02 03:04:05+00' })
    expect(row).toEqual({ id: 5, ids: [1, 2], at: new Date('2024-01-02T03:04:05Z') })
    expect(int8).toHaveBeenCalledWith('5', { type: 'int8' })
    expect(int8).toHaveBeenCalledWith('1', { type: 'int8', dims: 1 })
  })

  it('calls a user parser as a plain function, with the value and its column, in place and when renaming', () => {
    const receivers: unknown[] = []
    const mood = function (this: unknown, value: string) {
      receivers.push(this)
      return value.toUpperCase()
    }
    const schema = { mood: { type: 'mood', not_null: true } }
    expect(createMessageParser(schema, { parser: { mood } }).parseValue({ mood: 'ok' })).toEqual({ mood: 'OK' })
    expect(createMessageParser(schema, { parser: { mood }, columnMapper: snakeCamelMapper() }).parseValue({ mood: 'ok' })).toEqual({ mood: 'OK' })
    expect(receivers).toEqual([undefined, undefined])
  })

  it('renames keys with the column mapper after parsing, including pass-through columns', () => {
    const parser = createMessageParser(schema, { columnMapper: snakeCamelMapper() })
    expect(parser.parseValue({ id: '1', user_id: '7', other_col: 'x' })).toEqual({ id: 1n, userId: 7, otherCol: 'x' })
  })

  it('decodes each schema column name once, not per row', () => {
    const mapper = snakeCamelMapper()
    const decode = vi.spyOn(mapper, 'decode')
    const parser = createMessageParser(schema, { columnMapper: mapper })
    for (let i = 0; i < 5; i++) parser.parseValue({ id: String(i), user_id: '1' })
    expect(decode).toHaveBeenCalledTimes(Object.keys(schema).length)
  })

  it('rejects a mapper that merges two schema columns', () => {
    expect(() => createMessageParser(schema, { columnMapper: createColumnMapper({ done: 'meta' }) })).toThrow(/both/)
  })

  it('applies the transformer last', () => {
    const parser = createMessageParser(schema, {
      columnMapper: snakeCamelMapper(),
      transformer: (row) => ({ label: `#${String(row['id'])} of ${String(row['userId'])}` }),
    })
    expect(parser.parseValue({ id: '3', user_id: '4' })).toEqual({ label: '#3 of 4' })
  })

  it('treats a __proto__ column as data', () => {
    const wire = JSON.parse('{"__proto__":"1"}') as WireRow
    const row = createMessageParser({ ['__proto__']: { type: 'int4' } }).parseValue(wire)
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1)
  })

  describe('parseMessages', () => {
    // Fresh objects per call: parseMessages owns its input, as it owns a JSON.parse result.
    const batch = (): Message<WireRow>[] => [
      { key: 'k1', value: { id: '1', done: 't' }, headers: { operation: 'insert', relation: ['public', 't'] } },
      {
        key: 'k1',
        value: { id: '1', done: 'f' },
        old_value: { done: 't' },
        headers: { operation: 'update', lsn: '10', op_position: 0, txids: [5], last: true },
      },
      { headers: { control: 'snapshot-end', xmin: '1', xmax: '2', xip_list: [] } },
      { headers: { control: 'up-to-date', global_last_seen_lsn: '10' } },
    ]

    it('parses value and old_value and keeps control messages and headers', () => {
      const input = batch()
      const headers = input.map((message) => message.headers)
      const out = createMessageParser(schema).parseMessages(input)
      expect(out).toEqual([
        { key: 'k1', value: { id: 1n, done: true }, headers: headers[0] },
        { key: 'k1', value: { id: 1n, done: false }, old_value: { done: true }, headers: headers[1] },
        batch()[2],
        batch()[3],
      ])
      expect(out[2]?.headers).toBe(headers[2])
      expect('old_value' in (out[0] as object)).toBe(false)
    })

    it('without a columnMapper parses in place: the same array, messages and row objects', () => {
      const input = batch()
      const values = input.map((message) => ('value' in message ? message.value : undefined))
      const out = createMessageParser(schema).parseMessages(input)
      expect(out).toBe(input)
      out.forEach((message, i) => expect('value' in message ? message.value : undefined).toBe(values[i]))
    })

    it('with a transformer, messages carry the transformed value and old_value stays a parsed partial row', () => {
      const out = createMessageParser(schema, { transformer: (row) => ({ label: `#${String(row['id'])}` }) }).parseMessages(batch())
      expect(out[1]).toMatchObject({ value: { label: '#1' }, old_value: { done: true } })
    })

    it('with a columnMapper builds renamed rows and leaves its input alone', () => {
      const input = batch()
      const copy = structuredClone(input)
      const out = createMessageParser(schema, { columnMapper: snakeCamelMapper() }).parseMessages(input)
      expect(input).toEqual(copy)
      expect(out[0]).toMatchObject({ value: { id: 1n, done: true } })
    })

    it('is all-or-nothing: one bad value throws for the whole batch', () => {
      const bad: Message<WireRow>[] = [...batch(), { key: 'k2', value: { id: null }, headers: { operation: 'insert' } }]
      expect(() => createMessageParser(schema).parseMessages(bad)).toThrow(NullValueError)
    })

    it('checks not_null on columns without a parser, and skips absent columns', () => {
      const textSchema: Schema = { id: { type: 'text', not_null: true }, note: { type: 'text' }, n: { type: 'int4' } }
      const parser = createMessageParser(textSchema)
      expect(() => parser.parseMessages([{ key: 'a', value: { id: null }, headers: { operation: 'insert' } }])).toThrow(NullValueError)
      const [partial] = parser.parseMessages([{ key: 'a', value: { note: null }, headers: { operation: 'update' } }])
      expect(partial).toEqual({ key: 'a', value: { note: null }, headers: { operation: 'update' } })
    })

    it('a column named like an Object.prototype member is parsed when present and never invented when absent', () => {
      const parser = createMessageParser<Record<string, unknown>>({ constructor: { type: 'int4' }, ['__proto__']: { type: 'int4' } })
      const [absent] = parser.parseMessages([{ key: 'a', value: {}, headers: { operation: 'insert' } }])
      expect(Object.keys((absent as { value: object }).value)).toEqual([])
      const wire = JSON.parse('{"constructor":"2","__proto__":"3"}') as WireRow
      const [present] = parser.parseMessages([{ key: 'a', value: wire, headers: { operation: 'insert' } }])
      const row = (present as { value: object }).value
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
      expect(Object.getOwnPropertyDescriptor(row, 'constructor')?.value).toBe(2)
      expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(3)
    })
  })
})

describe('parseSchemaHeader', () => {
  it('reads a valid header', () => {
    const header = '{"id":{"type":"int8","pk_index":0,"not_null":true},"tags":{"type":"text","dims":1}}'
    expect(parseSchemaHeader(header)).toEqual({
      id: { type: 'int8', pk_index: 0, not_null: true },
      tags: { type: 'text', dims: 1 },
    })
  })

  it('accepts an empty schema', () => {
    expect(parseSchemaHeader('{}')).toEqual({})
  })

  it.each([
    { why: 'invalid JSON', header: '{"id":' },
    { why: 'an array', header: '[]' },
    { why: 'null', header: 'null' },
    { why: 'a string', header: '"x"' },
    { why: 'a column that is not an object', header: '{"id":"int4"}' },
    { why: 'a column without type', header: '{"id":{"dims":1}}' },
    { why: 'a non-string type', header: '{"id":{"type":4}}' },
    { why: 'negative dims', header: '{"id":{"type":"int4","dims":-1}}' },
  ])('throws MalformedSchemaError for $why', ({ header }) => {
    expect(() => parseSchemaHeader(header)).toThrow(MalformedSchemaError)
  })

  it('keeps the JSON error as cause', () => {
    try {
      parseSchemaHeader('nope')
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedSchemaError)
      expect((error as Error).cause).toBeInstanceOf(SyntaxError)
    }
  })
})
