import { describe, it, expect } from 'vitest'
import { shallow } from '../../src/core/shallow'

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
