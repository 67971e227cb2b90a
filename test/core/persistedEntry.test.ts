/**
 * The stored form of a persisted shape: exact round trip of every value hydration carries (through the fast path
 * for plain JSON and the exact encoder for the rest), and the definition key's canonical form.
 */
import { describe, expect, it } from 'vitest'
import { persistDefinitionKey, readEntry, writeEntry } from '../../src/core/persist/persistedEntry'
import type { ShapeHydrationState } from '../../src/core/shape'

const url = 'http://localhost:3000/v1/shape'

function roundTrip(rows: Map<string, unknown>): Map<string, unknown> {
  const state: ShapeHydrationState<unknown> = { handle: 'h', offset: '5_0', cursor: 'c', schema: { id: { type: 'int8' } }, lastSyncedAt: 10, rows }
  const text = writeEntry(state, { definition: 'd', buster: 'b', savedAt: 20 })
  const read = readEntry(text, { definition: 'd', buster: 'b', maxAgeMs: 1000, now: 30 })
  if (read.kind !== 'entry') throw new Error(read.reason)
  expect(read.state).toMatchObject({ handle: 'h', offset: '5_0', cursor: 'c', schema: { id: { type: 'int8' } }, lastSyncedAt: 10 })
  return read.state.rows as Map<string, unknown>
}

describe('persisted entry', () => {
  it('round-trips rows exactly: plain JSON as is, bigint, NaN, -0, Infinity, undefined, Date, tag-like and __proto__ keys', () => {
    const doc = JSON.parse('{"$ls":"bigint","v":"1","__proto__":{"polluted":true},"nested":[1,{"x":null}]}') as unknown
    const rows = new Map<string, unknown>([
      ['plain', { id: 1, title: 'a', done: true, tags: ['x', 'y'], payload: { owner: 'ada', n: [1, 2] }, note: null }],
      ['big', { id: 9007199254740993n, list: [1n, -2n], nested: { deep: [{ v: 3n }] } }],
      ['numbers', { nan: Number.NaN, negZero: -0, inf: Number.POSITIVE_INFINITY, minusInf: Number.NEGATIVE_INFINITY }],
      ['odd', { missing: undefined, at: new Date('2024-01-02T03:04:05.000Z'), hole: [1, undefined, 3] }],
      ['doc', { doc }],
      ['scalar', 'just a string'],
    ])
    const back = roundTrip(rows)
    expect([...back.keys()]).toEqual([...rows.keys()])
    expect(back.get('plain')).toEqual(rows.get('plain'))
    expect(back.get('big')).toEqual(rows.get('big'))
    const numbers = back.get('numbers') as Record<string, number>
    expect(numbers.nan).toBeNaN()
    expect(Object.is(numbers.negZero, -0)).toBe(true)
    expect(numbers.inf).toBe(Number.POSITIVE_INFINITY)
    expect(numbers.minusInf).toBe(Number.NEGATIVE_INFINITY)
    const odd = back.get('odd') as Record<string, unknown>
    expect(Object.hasOwn(odd, 'missing') && odd.missing === undefined).toBe(true)
    expect(odd.at).toEqual(new Date('2024-01-02T03:04:05.000Z'))
    expect(odd.hole).toEqual([1, undefined, 3])
    const storedDoc = (back.get('doc') as { doc: Record<string, unknown> }).doc
    expect(storedDoc['$ls']).toBe('bigint')
    expect(Object.getPrototypeOf(storedDoc)).toBe(Object.prototype)
    expect(Object.keys(storedDoc)).toContain('__proto__')
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(back.get('scalar')).toBe('just a string')
  })

  it('a row holding a column named __proto__ keeps it as a column', () => {
    const row = JSON.parse('{"id":1,"__proto__":5}') as Record<string, unknown>
    row['big'] = 2n
    const back = roundTrip(new Map([['k', row]])).get('k') as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toBe(5)
    expect(back['big']).toBe(2n)
  })

  it('refuses values the encoding cannot carry, and a number JSON parsed to Infinity', () => {
    const state = (row: unknown): ShapeHydrationState<unknown> => ({ handle: 'h', offset: '1_0', cursor: undefined, schema: undefined, lastSyncedAt: 1, rows: new Map([['k', row]]) })
    expect(() => writeEntry(state({ f: () => 1 }), { definition: 'd', buster: '', savedAt: 1 })).toThrow(/cannot encode a function/)
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(() => writeEntry(state({ cyclic }), { definition: 'd', buster: '', savedAt: 1 })).toThrow(/cycle/)
    const text = writeEntry(state({ n: 1 }), { definition: 'd', buster: '', savedAt: 1 }).replace('"n":1', '"n":1e999')
    expect(readEntry(text, { definition: 'd', buster: '', maxAgeMs: 10, now: 2 })).toMatchObject({ kind: 'drop' })
  })

  it('keys a definition canonically, and not at all with function-valued params', () => {
    const a = persistDefinitionKey({ url, params: { table: 't', where: 'a = $1', params: ['1'], tenant: { b: '2', a: '1' } } })
    const b = persistDefinitionKey({ url, params: { params: { 1: '1' }, tenant: { a: '1', b: '2' }, where: 'a = $1', table: 't' }, log: 'full' })
    expect(a).toBe(b)
    expect(persistDefinitionKey({ url, params: { table: 't', replica: 'full' } })).not.toBe(persistDefinitionKey({ url, params: { table: 't' } }))
    expect(persistDefinitionKey({ url, params: { table: 't', where: () => 'x' } })).toBeUndefined()
  })
})
