import { describe, expect, it } from 'vitest'
import { Backoff, parseRetryAfter } from '../../src/core/backoff'

describe('Backoff', () => {
  it('doubles the jitter ceiling from 1000 ms up to the 32000 ms cap (full jitter)', () => {
    const backoff = new Backoff({}, () => 0.999_999)
    const delays = Array.from({ length: 8 }, () => backoff.next())
    expect(delays).toEqual([999, 1999, 3999, 7999, 15_999, 31_999, 31_999, 31_999])
  })

  it('scales the ceiling by random()', () => {
    const values = [0.5, 0.25, 0]
    const backoff = new Backoff({}, () => values.shift() ?? 0)
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 500, 0])
  })

  it('uses retry-after as a floor, even above the cap', () => {
    const backoff = new Backoff({ maxDelayMs: 2000 }, () => 0.1)
    expect(backoff.next(10_000)).toBe(10_000)
    expect(backoff.next(1)).toBe(200)
  })

  it('gives up after maxRetries and starts over after reset', () => {
    const backoff = new Backoff({ maxRetries: 2 }, () => 1)
    expect(backoff.next()).toBe(1000)
    expect(backoff.next()).toBe(2000)
    expect(backoff.next()).toBeUndefined()
    expect(backoff.attempts).toBe(2)
    backoff.reset()
    expect(backoff.next()).toBe(1000)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  it('reads delta seconds', () => {
    expect(parseRetryAfter('10', now)).toBe(10_000)
    expect(parseRetryAfter(' 5 ', now)).toBe(5000)
    expect(parseRetryAfter('3601', now)).toBe(3_600_000)
    expect(parseRetryAfter('99999999', now)).toBe(3_600_000)
  })
  it('reads an HTTP date relative to now, capped at one hour and never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Thu, 01 Jan 2026 05:00:00 GMT', now)).toBe(3_600_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0)
  })
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
  })
})
