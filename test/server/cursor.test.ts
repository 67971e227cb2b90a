import { describe, expect, it } from 'vitest'
import { CURSOR_EPOCH_MS, nextCursor } from '../../src/server/cursor'

describe('nextCursor', () => {
  const at = (seconds: number) => CURSOR_EPOCH_MS + seconds * 1000
  it('rounds up to the long-poll interval since 2024-10-09', () => {
    expect(nextCursor({ nowMs: at(41), longPollTimeoutMs: 20_000, requestCursor: undefined, random: () => 0 })).toBe('60')
    expect(nextCursor({ nowMs: at(40), longPollTimeoutMs: 20_000, requestCursor: '20', random: () => 0 })).toBe('40')
  })
  it('bumps by 1..3600 when the bucket is not past the request cursor', () => {
    expect(nextCursor({ nowMs: at(41), longPollTimeoutMs: 20_000, requestCursor: '60', random: () => 0 })).toBe('61')
    expect(nextCursor({ nowMs: at(41), longPollTimeoutMs: 20_000, requestCursor: '1000', random: () => 0.9999 })).toBe('4600')
  })
  it('ignores a cursor that is not an integer', () => {
    expect(nextCursor({ nowMs: at(1), longPollTimeoutMs: 500, requestCursor: 'abc', random: () => 0 })).toBe('1')
  })
})
