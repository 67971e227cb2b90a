/**
 * `date`, `timestamp` and `timestamptz` values for evaluating shape where clauses, as microseconds since
 * 1970-01-01 00:00 UTC on the proleptic Gregorian calendar.
 *
 * Rules:
 * - The server runs with `TimeZone=UTC` (SHAPE-PROTOCOL §3.4): a `timestamptz` written without an offset is
 *   UTC, a `timestamp` is compared with a `timestamptz` as if it were UTC, and a `date` is its midnight.
 * - A `timestamp` input that carries an offset ignores it, as Postgres does.
 * - Values outside PostgreSQL's range for their type are out of range (`isInstantInRange`), not wrapped or printed
 *   with a float year: every type starts at 4714-11-24 BC (Julian day 0); a date ends at 5874897-12-31 and a
 *   timestamp (with or without time zone, in UTC) at 294276-12-31 24:00.
 * - Only ISO 8601 input is accepted (`2024-01-31`, `2024-01-31 10:00:00.5+02`, `… BC`, `infinity`); other
 *   forms Postgres knows (`Jan 31 2024`, `today`, `now`) are refused rather than guessed, and `today`/`now`
 *   could never be stable shape membership anyway.
 */

/** A point in time or one of the infinities Postgres allows. */
export type Instant =
  | { readonly kind: 'finite'; readonly micros: bigint }
  | { readonly kind: 'infinity'; readonly negative: boolean }

const MICROS_PER_SECOND = 1_000_000n
const MICROS_PER_DAY = 86_400n * MICROS_PER_SECOND

const DATE_PART = String.raw`(\d{4,})-(\d{1,2})-(\d{1,2})`
const DATE_INPUT = new RegExp(String.raw`^${DATE_PART}(\s+BC)?$`, 'i')
const TIMESTAMP_INPUT = new RegExp(
  String.raw`^${DATE_PART}(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)?(\s+BC)?$`,
  'i',
)

/** Days from 1970-01-01 to the given proleptic Gregorian date (astronomical year: 1 BC is year 0). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function dayCount(year: number, month: number, day: number, bc: boolean): number | undefined {
  if (year === 0 || month < 1 || month > 12 || day < 1) return undefined
  const astronomical = bc ? 1 - year : year
  const monthDays = [31, isLeap(astronomical) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
  if (day > monthDays) return undefined
  return daysFromCivil(astronomical, month, day)
}

function parseInfinity(text: string): Instant | undefined {
  const lower = text.toLowerCase()
  if (lower === 'infinity' || lower === '+infinity') return { kind: 'infinity', negative: false }
  if (lower === '-infinity') return { kind: 'infinity', negative: true }
  return undefined
}

/** Parses ISO `date` text; undefined when it is not one. */
export function parseDate(text: string): Instant | undefined {
  const trimmed = text.trim()
  const infinite = parseInfinity(trimmed)
  if (infinite) return infinite
  const match = DATE_INPUT.exec(trimmed)
  if (!match) return undefined
  const days = dayCount(Number(match[1]), Number(match[2]), Number(match[3]), match[4] !== undefined)
  return days === undefined ? undefined : { kind: 'finite', micros: BigInt(days) * MICROS_PER_DAY }
}

function offsetSeconds(zone: string): number | undefined {
  if (zone.toUpperCase() === 'Z') return 0
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replaceAll(':', '')
  const hours = Number(digits.length % 2 === 1 ? digits.slice(0, 1) : digits.slice(0, 2))
  const rest = digits.length % 2 === 1 ? digits.slice(1) : digits.slice(2)
  const minutes = rest.length >= 2 ? Number(rest.slice(0, 2)) : 0
  const seconds = rest.length >= 4 ? Number(rest.slice(2, 4)) : 0
  if (hours > 15 || minutes > 59 || seconds > 59) return undefined
  return sign * (hours * 3600 + minutes * 60 + seconds)
}

/** Parses ISO `timestamp`/`timestamptz` text; a bare date is its midnight. */
export function parseTimestamp(text: string, withZone: boolean): Instant | undefined {
  const trimmed = text.trim()
  const infinite = parseInfinity(trimmed)
  if (infinite) return infinite
  const match = TIMESTAMP_INPUT.exec(trimmed)
  if (!match) return undefined
  const days = dayCount(Number(match[1]), Number(match[2]), Number(match[3]), match[9] !== undefined)
  if (days === undefined) return undefined
  const hour = Number(match[4] ?? 0)
  const minute = Number(match[5] ?? 0)
  const second = Number(match[6] ?? 0)
  const fraction = match[7] ?? ''
  if (minute > 59 || second > 59 || hour > 24 || (hour === 24 && (minute > 0 || second > 0 || /[1-9]/.test(fraction)))) {
    return undefined
  }
  // Postgres keeps microseconds and rounds any further digits half up.
  const micros = Math.round(Number(`0.${fraction || '0'}`) * 1_000_000)
  let total =
    BigInt(days) * MICROS_PER_DAY + BigInt(hour * 3600 + minute * 60 + second) * MICROS_PER_SECOND + BigInt(micros)
  if (withZone && match[8] !== undefined) {
    const offset = offsetSeconds(match[8])
    if (offset === undefined) return undefined
    total -= BigInt(offset) * MICROS_PER_SECOND
  }
  return { kind: 'finite', micros: total }
}

/** PostgreSQL's bounds (its datetime.h), in microseconds since 1970-01-01: the first valid one and the first past it. */
const MIN_MICROS = -2_440_588n * MICROS_PER_DAY
const DATE_END_MICROS = 2_145_042_906n * MICROS_PER_DAY
const TIMESTAMP_END_MICROS = 106_762_940n * MICROS_PER_DAY

/** Whether Postgres can hold the instant as `type` (infinities always). */
export function isInstantInRange(value: Instant, type: 'date' | 'timestamp' | 'timestamptz'): boolean {
  if (value.kind === 'infinity') return true
  return value.micros >= MIN_MICROS && value.micros < (type === 'date' ? DATE_END_MICROS : TIMESTAMP_END_MICROS)
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient
}

/** Midnight of the instant's day (the timestamp → date cast). */
export function truncateToDay(value: Instant): Instant {
  if (value.kind === 'infinity') return value
  return { kind: 'finite', micros: floorDiv(value.micros, MICROS_PER_DAY) * MICROS_PER_DAY }
}

export function compareInstant(a: Instant, b: Instant): number {
  const rank = (value: Instant): number => (value.kind === 'finite' ? 0 : value.negative ? -1 : 1)
  if (a.kind === 'finite' && b.kind === 'finite') return a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0
  return Math.sign(rank(a) - rank(b))
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

function formatDay(days: number): { text: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days)
  const bc = year <= 0
  return { text: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc }
}

/** ISO text Postgres would print (`DateStyle=ISO`, `TimeZone=UTC`). */
export function formatInstant(value: Instant, type: 'date' | 'timestamp' | 'timestamptz'): string {
  if (value.kind === 'infinity') return value.negative ? '-infinity' : 'infinity'
  const days = floorDiv(value.micros, MICROS_PER_DAY)
  const { text: date, bc } = formatDay(Number(days))
  if (type === 'date') return bc ? `${date} BC` : date
  const inDay = value.micros - days * MICROS_PER_DAY
  const seconds = Number(inDay / MICROS_PER_SECOND)
  const micros = Number(inDay % MICROS_PER_SECOND)
  const time = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`
  const fraction = micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`
  return `${date} ${time}${fraction}${type === 'timestamptz' ? '+00' : ''}${bc ? ' BC' : ''}`
}
