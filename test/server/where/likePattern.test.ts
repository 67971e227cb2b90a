import { describe, expect, it } from 'vitest'
import { compileLikePattern, foldCase, upperCase } from '../../../src/server/where/likePattern'
import { SqlValueError } from '../../../src/server/where/sqlValue'

describe('likePattern', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'ab', false],
    ['a%', 'a', true],
    ['%c', 'abc', true],
    ['%b%', 'abc', true],
    ['%b%', 'ac', false],
    ['a_c', 'abc', true],
    ['a_c', 'a😀c', true],
    ['a_c', 'ac', false],
    ['a%b%c', 'aXbYbZc', true],
    ['a%b%c', 'aXcYb', false],
    [String.raw`a\%`, 'a%', true],
    [String.raw`a\%`, 'ab', false],
    [String.raw`a\_`, 'a_', true],
    [String.raw`a\\b`, String.raw`a\b`, true],
    [String.raw`a\b`, 'ab', true],
    ['', '', true],
    ['%', '', true],
  ])('%j LIKE %j is %s', (pattern, text, expected) => {
    expect(compileLikePattern(pattern).matches(text)).toBe(expected)
  })

  it('refuses a pattern ending in the escape character', () => {
    expect(() => compileLikePattern('ab\\')).toThrow(SqlValueError)
  })

  it('stays linear-ish on patterns that make backtracking regexes explode', () => {
    const pattern = compileLikePattern(`${'%a'.repeat(30)}%b`)
    expect(pattern.matches('a'.repeat(5000))).toBe(false)
  })

  it('folds case one code point at a time', () => {
    expect(foldCase('ÉTÉ ΣΑ')).toBe('été σα')
    // JavaScript lower-cases İ to two code points; a per-character lower() keeps the base letter.
    expect(foldCase('İ')).toBe('i')
    expect(upperCase('straße')).toBe('STRAßE')
  })
})
