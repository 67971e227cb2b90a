import { describe, expect, it } from 'vitest'
import { isPlainObject } from '../../src/core/isPlainObject'

describe('isPlainObject (the one plain-object check)', () => {
  it.each([
    ['an object literal', {}, true],
    ['a JSON object', JSON.parse('{"a":1}') as unknown, true],
    ['a null-prototype object', Object.create(null) as unknown, true],
    ['an array', [1], false],
    ['a JSON array', JSON.parse('[]') as unknown, false],
    ['null', null, false],
    ['a string', 'x', false],
    ['a Map', new Map(), false],
    ['a Date', new Date(0), false],
    ['a class instance', new (class Row {})(), false],
  ])('%s → %s', (_, value, expected) => {
    expect(isPlainObject(value)).toBe(expected)
  })
})
