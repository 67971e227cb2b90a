import { describe, it, expect } from 'vitest'
import { shallow } from '../../src/react/index'
import { sameShapeOptions } from '../../src/react/sameShapeOptions'

describe('shallow', () => {
  const a = { id: 1 }
  const b = { id: 1 }
  it.each([
    ['same reference', a, a, true],
    ['arrays with the same items', [a, 1], [a, 1], true],
    ['arrays with equal but distinct items', [a], [b], false],
    ['arrays of different length', [a], [a, a], false],
    ['objects with the same values', { x: a, y: 2 }, { y: 2, x: a }, true],
    ['objects with a different key', { x: 1 }, { y: 1 }, false],
    ['objects with an extra key', { x: 1 }, { x: 1, y: undefined }, false],
    ['maps with the same entries', new Map([['k', a]]), new Map([['k', a]]), true],
    ['maps with a different value', new Map([['k', a]]), new Map([['k', b]]), false],
    ['sets with the same members', new Set([a, 1]), new Set([1, a]), true],
    ['sets with different members', new Set([a]), new Set([b]), false],
    ['an array and an object', [1], { 0: 1 }, false],
    ['NaN and NaN', Number.NaN, Number.NaN, true],
    ['null and an object', null, {}, false],
    ['numbers', 1, 2, false],
  ])('%s', (_, left, right, expected) => {
    expect(shallow<unknown>(left, right)).toBe(expected)
    expect(shallow<unknown>(right, left)).toBe(expected)
  })
})

describe('sameShapeOptions', () => {
  const url = 'http://x/v1/shape'
  const parser = { int4: (value: string) => Number(value) }
  it('compares plain values deeply, in any key order', () => {
    expect(
      sameShapeOptions(
        { url, params: { table: 't', where: 'a = $1', params: ['1'], columns: ['a', 'b'] } },
        { params: { columns: ['a', 'b'], params: ['1'], where: 'a = $1', table: 't' }, url },
      ),
    ).toBe(true)
    expect(sameShapeOptions({ url, params: { table: 't', params: ['1'] } }, { url, params: { table: 't', params: ['2'] } })).toBe(false)
    expect(sameShapeOptions({ url, params: { table: 't' } }, { url, params: { table: 't', where: 'x' } })).toBe(false)
  })

  it('treats a missing key and an undefined one alike', () => {
    expect(sameShapeOptions({ url, params: { table: 't' } }, { url, params: { table: 't', where: undefined } })).toBe(true)
  })

  it('compares functions and class instances by identity, never by source text', () => {
    const make = () => (value: string) => Number(value)
    expect(sameShapeOptions({ url, params: { table: 't' }, parser }, { url, params: { table: 't' }, parser })).toBe(true)
    expect(sameShapeOptions({ url, params: { table: 't' }, parser: { int4: make() } }, { url, params: { table: 't' }, parser: { int4: make() } })).toBe(false)
    const header = () => 'token'
    expect(sameShapeOptions({ url, params: { table: 't' }, headers: { a: header } }, { url, params: { table: 't' }, headers: { a: header } })).toBe(true)
    expect(sameShapeOptions({ url, params: { table: 't' }, headers: { a: () => 'x' } }, { url, params: { table: 't' }, headers: { a: () => 'x' } })).toBe(false)
  })

  it('ignores what does not change the shape: onError, backoff and the hook-only options', () => {
    expect(
      sameShapeOptions(
        { url, params: { table: 't' }, onError: () => undefined, selector: (r: unknown) => r, isEqual: Object.is, enabled: true },
        { url, params: { table: 't' }, onError: () => ({}), selector: (r: unknown) => r, backoff: { initialDelayMs: 1 } },
      ),
    ).toBe(true)
  })
})
