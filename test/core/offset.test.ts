import { describe, expect, it } from 'vitest'
import {
  BEFORE_ALL,
  NOW,
  changeOffset,
  compareOffsets,
  formatLogOffset,
  isValidOffset,
  parseLogOffset,
} from '../../src/core/offset'

describe('parseLogOffset', () => {
  it.each([
    { text: '0_0', tx: 0n, op: 0 },
    { text: '28051632_4', tx: 28051632n, op: 4 },
    { text: '5_inf', tx: 5n, op: Infinity },
    { text: '123456789012345678901234567890_1', tx: 123456789012345678901234567890n, op: 1 },
  ])('reads $text', ({ text, tx, op }) => {
    expect(parseLogOffset(text)).toEqual({ tx, op })
  })

  it.each(['-1', 'now', '', 'abc', '1', '1_', '_1', '01_0', '1_01', '-2_0', '1_-1', '1_2_3', '1.5_0', ' 1_0', '1_INF', '0_9007199254740993'])(
    'rejects %j',
    (text) => {
      expect(parseLogOffset(text)).toBeUndefined()
    },
  )
})

describe('isValidOffset', () => {
  it.each(['-1', 'now', '0_0', '5_inf'])('accepts %s', (text) => expect(isValidOffset(text)).toBe(true))
  it.each(['', '-2', 'NOW', '0', 'x_0', '00_0'])('rejects %j', (text) => expect(isValidOffset(text)).toBe(false))
  it('exports the two named offsets', () => {
    expect(BEFORE_ALL).toBe('-1')
    expect(NOW).toBe('now')
  })
})

describe('formatLogOffset', () => {
  it.each(['0_0', '7_12', '5_inf', '123456789012345678901234567890_9007199254740991'])('round-trips %s', (text) => {
    const parsed = parseLogOffset(text)
    expect(parsed).toBeDefined()
    expect(formatLogOffset(parsed as NonNullable<typeof parsed>)).toBe(text)
  })
})

describe('compareOffsets', () => {
  it.each([
    { a: '-1', b: '-1', order: 0 },
    { a: '-1', b: '0_0', order: -1 },
    { a: '0_0', b: '-1', order: 1 },
    { a: '1_0', b: '1_0', order: 0 },
    { a: '1_2', b: '1_10', order: -1 },
    { a: '2_0', b: '10_0', order: -1 },
    { a: '10_0', b: '9_999', order: 1 },
    { a: '3_inf', b: '3_999999', order: 1 },
    { a: '3_inf', b: '4_0', order: -1 },
    { a: '3_inf', b: '3_inf', order: 0 },
    { a: '123456789012345678901234567891_0', b: '123456789012345678901234567890_5', order: 1 },
  ])('$a vs $b → $order', ({ a, b, order }) => {
    expect(compareOffsets(a, b)).toBe(order)
    expect(compareOffsets(b, a)).toBe(order === 0 ? 0 : -order)
  })

  it.each([
    { a: 'now', b: '0_0' },
    { a: '0_0', b: 'garbage' },
    { a: '1_0', b: 'now' },
    { a: 'now', b: '-1' },
    { a: '-1', b: 'garbage' },
    { a: 'now', b: 'now' },
  ])('throws RangeError comparing $a and $b', ({ a, b }) => {
    expect(() => compareOffsets(a, b)).toThrow(RangeError)
  })
})

describe('changeOffset', () => {
  it('joins lsn and op_position into a valid offset', () => {
    expect(changeOffset('28051632', 6)).toBe('28051632_6')
    expect(isValidOffset(changeOffset('1', 0))).toBe(true)
  })
})
