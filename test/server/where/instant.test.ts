import { describe, expect, it } from 'vitest'
import { compareInstant, formatInstant, isInstantInRange, parseDate, parseTimestamp, type Instant } from '../../../src/server/where/instant'
import { castSqlValue, parseSqlValue } from '../../../src/server/where/sqlValue'

function timestamp(text: string, withZone = true): Instant {
  const value = parseTimestamp(text, withZone)
  if (!value) throw new Error(`not a timestamp: ${text}`)
  return value
}

describe('instant', () => {
  it.each([
    ['2024-02-29 13:45:10.25+00', Date.UTC(2024, 1, 29, 13, 45, 10, 250)],
    ['1970-01-01 00:00:00Z', 0],
    ['1969-12-31T23:59:59.999-01:30', Date.UTC(1970, 0, 1, 1, 29, 59, 999)],
    ['2000-03-01 05:30+05:30', Date.UTC(2000, 2, 1)],
    ['1600-02-29', Date.UTC(1600, 1, 29)],
  ])('reads %s as the instant Date.UTC gives', (text, millis) => {
    expect(timestamp(text)).toEqual({ kind: 'finite', micros: BigInt(millis) * 1000n })
  })

  it('ignores an offset on timestamp without time zone, applies it with one', () => {
    expect(timestamp('2024-01-01 10:00:00+02', false)).toEqual(timestamp('2024-01-01 10:00:00+00'))
    expect(timestamp('2024-01-01 10:00:00+02')).toEqual(timestamp('2024-01-01 08:00:00+00'))
  })

  it.each([
    ['2024-01-01', 'date', '2024-01-01'],
    ['0044-03-15 BC', 'date', '0044-03-15 BC'],
    ['infinity', 'date', 'infinity'],
  ] as const)('round-trips date %s', (text, type, output) => {
    const value = parseDate(text)
    expect(value && formatInstant(value, type)).toBe(output)
  })

  it('formats timestamps as Postgres prints them in UTC', () => {
    expect(formatInstant(timestamp('2024-01-01 10:00:00.5+02'), 'timestamptz')).toBe('2024-01-01 08:00:00.5+00')
    expect(formatInstant(timestamp('2024-01-01 00:00:00.000001', false), 'timestamp')).toBe('2024-01-01 00:00:00.000001')
    expect(formatInstant(timestamp('0001-01-01 00:00:00+00 BC'), 'timestamptz')).toBe('0001-01-01 00:00:00+00 BC')
  })

  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '0000-01-01', 'today', 'Jan 1 2024', '2024/01/01'])(
    'refuses %j',
    (text) => {
      expect(parseDate(text)).toBeUndefined()
    },
  )

  it('orders infinities around every finite instant', () => {
    const values = ['-infinity', '0044-03-15 BC', '2024-01-01', 'infinity'].map((text) => parseDate(text) as Instant)
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) {
        expect(compareInstant(values[i] as Instant, values[j] as Instant)).toBe(Math.sign(i - j))
      }
    }
  })

  // Each pair is the last value PostgreSQL accepts and the first it refuses as out of range (checked on PGlite 18).
  it.each([
    ['timestamptz', '294276-12-31 23:59:59.999999', '294277-01-01'],
    ['timestamptz', '294277-01-01 00:30+01', '294277-01-01 00:30+00'],
    ['timestamptz', '4714-11-24 00:00+00 BC', '4714-11-24 00:00+01 BC'],
    ['timestamp', '294276-12-31 23:59:59.999999', '294277-01-01'],
    ['timestamp', '4714-11-24 BC', '4714-11-23 BC'],
    ['date', '5874897-12-31', '5874898-01-01'],
    ['date', '4714-11-24 BC', '4714-11-23 BC'],
  ] as const)('keeps a %s to PostgreSQL’s range: %s is in it, %s is not', (type, inside, outside) => {
    expect(parseSqlValue(type, inside)).toMatchObject({ kind: 'finite' })
    expect(() => parseSqlValue(type, outside)).toThrow(`${type === 'date' ? 'date' : 'timestamp'} out of range: "${outside}"`)
  })

  it('refuses a year past any integer as out of range instead of printing it as a float', () => {
    expect(() => parseSqlValue('timestamptz', '92233720368547758082030-01-01')).toThrow('timestamp out of range')
    expect(isInstantInRange(parseDate('infinity') as Instant, 'timestamp')).toBe(true)
  })

  it('refuses a date past 294276 cast to a timestamp, as PostgreSQL does', () => {
    expect(() => castSqlValue('date', 'timestamp', parseSqlValue('date', '5874897-12-31'))).toThrow('date out of range for timestamp')
    expect(castSqlValue('date', 'timestamptz', parseSqlValue('date', '294276-12-31'))).toMatchObject({ kind: 'finite' })
  })
})
