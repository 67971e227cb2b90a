/**
 * Runtime values of the supported types: input parsing (literals, `$n`, wire text), Postgres ordering, output
 * text and casts.
 *
 * Rules:
 * - One representation per type: `bool` → boolean, integers → bigint, floats → number (`float4` rounded to
 *   single precision), `numeric` → Decimal, strings → string (`bpchar` without trailing spaces), `uuid` → lower-case
 *   canonical text, dates and timestamps → Instant.
 * - Text orders by Unicode code point (the byte order of the `C`/`C.UTF-8` collation the dev clusters use),
 *   not by UTF-16 unit as JavaScript's `<` would.
 * - Floats order as Postgres orders them: `NaN` equals `NaN` and is above `Infinity`.
 * - Anything Postgres would refuse at run time (bad input, out of range) raises `SqlValueError` with Postgres'
 *   wording; the evaluator turns that into "row does not match", since Postgres would have failed the query.
 */
import {
  compareDecimal,
  DecimalArithmeticError,
  decimalFromBigInt,
  decimalToNumber,
  formatDecimal,
  parseDecimal,
  roundDecimal,
  type Decimal,
} from './decimal'
import { compareInstant, formatInstant, isInstantInRange, parseDate, parseTimestamp, truncateToDay, type Instant } from './instant'
import { isFloat, isInteger, type SqlType } from './sqlType'

/** A non-null runtime value. */
export type SqlValue = boolean | bigint | number | string | Decimal | Instant

/** A run-time error Postgres would raise for this value. */
export class SqlValueError extends Error {}

/** True for an error Postgres would raise evaluating values: bad input, out of range, decimal division by zero. */
export function isEvaluationError(error: unknown): error is SqlValueError | DecimalArithmeticError {
  return error instanceof SqlValueError || error instanceof DecimalArithmeticError
}

/** Postgres' own names, used in its error messages. */
export const TYPE_LABEL: Readonly<Record<SqlType, string>> = {
  bool: 'boolean',
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  numeric: 'numeric',
  text: 'text',
  bpchar: 'character',
  uuid: 'uuid',
  date: 'date',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
}

const INTEGER_RANGE = {
  int2: { min: -32_768n, max: 32_767n },
  int4: { min: -2_147_483_648n, max: 2_147_483_647n },
  int8: { min: -9_223_372_036_854_775_808n, max: 9_223_372_036_854_775_807n },
} as const

const INTEGER_INPUT = /^\s*[+-]?\d+\s*$/
const FLOAT_INPUT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/
const UUID_INPUT = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i

function invalid(type: SqlType, text: string): SqlValueError {
  return new SqlValueError(`invalid input syntax for type ${TYPE_LABEL[type]}: "${text}"`)
}

/** Checks an integer against its type's range (Postgres raises on overflow). */
export function checkInteger(type: 'int2' | 'int4' | 'int8', value: bigint): bigint {
  const range = INTEGER_RANGE[type]
  if (value < range.min || value > range.max) throw new SqlValueError(`${TYPE_LABEL[type]} out of range`)
  return value
}

function parseFloatText(type: 'float4' | 'float8', text: string): number {
  const lower = text.trim().toLowerCase()
  if (lower === 'nan') return Number.NaN
  if (['infinity', '+infinity', 'inf', '+inf'].includes(lower)) return Infinity
  if (['-infinity', '-inf'].includes(lower)) return -Infinity
  if (!FLOAT_INPUT.test(text)) throw invalid(type, text)
  const value = type === 'float4' ? Math.fround(Number(lower)) : Number(lower)
  const mantissa = lower.split('e')[0] ?? ''
  if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(mantissa))) {
    throw new SqlValueError(`"${text.trim()}" is out of range for type ${TYPE_LABEL[type]}`)
  }
  return value
}

function parseBool(text: string): boolean | undefined {
  const value = text.trim().toLowerCase()
  if (value === '') return undefined
  if ('true'.startsWith(value) || 'yes'.startsWith(value) || value === 'on' || value === '1') return true
  if ('false'.startsWith(value) || 'no'.startsWith(value) || (value.length >= 2 && 'off'.startsWith(value)) || value === '0') {
    return false
  }
  return undefined
}

/** Parses input text (a quoted literal, a `$n` value or a wire value) as `type`. */
export function parseSqlValue(type: SqlType, text: string): SqlValue {
  switch (type) {
    case 'bool': {
      const value = parseBool(text)
      if (value === undefined) throw invalid(type, text)
      return value
    }
    case 'int2':
    case 'int4':
    case 'int8': {
      if (!INTEGER_INPUT.test(text)) throw invalid(type, text)
      const value = BigInt(text.trim())
      const range = INTEGER_RANGE[type]
      if (value < range.min || value > range.max) {
        throw new SqlValueError(`value "${text}" is out of range for type ${TYPE_LABEL[type]}`)
      }
      return value
    }
    case 'float4':
    case 'float8':
      return parseFloatText(type, text)
    case 'numeric': {
      const value = parseDecimal(text)
      if (!value) throw invalid(type, text)
      return value
    }
    case 'text':
      return text
    case 'bpchar':
      return text.replace(/ +$/, '')
    case 'uuid': {
      const match = UUID_INPUT.exec(text.trim())
      if (!match || (text.trim().startsWith('{') !== text.trim().endsWith('}'))) throw invalid(type, text)
      return match.slice(1, 6).join('-').toLowerCase()
    }
    case 'date': {
      const value = parseDate(text)
      if (!value) throw unsupportedDateTime(type, text)
      if (!isInstantInRange(value, type)) throw new SqlValueError(`date out of range: "${text}"`)
      return value
    }
    case 'timestamp':
    case 'timestamptz': {
      const value = parseTimestamp(text, type === 'timestamptz')
      if (!value) throw unsupportedDateTime(type, text)
      if (!isInstantInRange(value, type)) throw new SqlValueError(`timestamp out of range: "${text}"`)
      return value
    }
  }
}

function unsupportedDateTime(type: SqlType, text: string): SqlValueError {
  const example = type === 'date' ? '2024-01-31' : '2024-01-31 13:45:00+00'
  return new SqlValueError(
    `invalid or unsupported input for type ${TYPE_LABEL[type]}: "${text}" (shape where clauses take ISO 8601, e.g. ${example})`,
  )
}

/** Compares code point by code point. */
function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let index = 0; index < length; index++) {
    const x = a.codePointAt(index) ?? 0
    const y = b.codePointAt(index) ?? 0
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) index++
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

function compareFloat(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1
  if (Number.isNaN(b)) return -1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Postgres ordering of two values of `type`: negative, zero or positive. */
export function compareSqlValues(type: SqlType, a: SqlValue, b: SqlValue): number {
  if (isInteger(type)) return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0
  if (isFloat(type)) return compareFloat(a as number, b as number)
  switch (type) {
    case 'bool':
      return Number(a as boolean) - Number(b as boolean)
    case 'numeric':
      return compareDecimal(a as Decimal, b as Decimal)
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return compareInstant(a as Instant, b as Instant)
    default:
      return compareText(a as string, b as string)
  }
}

function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity'
  return String(value)
}

/**
 * Text that Postgres parses back to exactly this value (used to render literals). For floats this is the
 * shortest round-trip form, which is what Postgres prints too except for its exponent threshold.
 */
export function formatSqlValue(type: SqlType, value: SqlValue): string {
  if (isInteger(type)) return (value as bigint).toString()
  if (isFloat(type)) return formatFloat(value as number)
  switch (type) {
    case 'bool':
      return value ? 'true' : 'false'
    case 'numeric':
      return formatDecimal(value as Decimal)
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return formatInstant(value as Instant, type)
    default:
      return value as string
  }
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value)
  const diff = value - floor
  if (diff > 0.5) return floor + 1
  if (diff < 0.5) return floor
  return floor % 2 === 0 ? floor : floor + 1
}

function toDecimal(from: SqlType, value: SqlValue): Decimal {
  return isInteger(from) ? decimalFromBigInt(value as bigint) : (value as Decimal)
}

/**
 * numeric → float as Postgres converts it (through the float's input function, refusing what Postgres refuses): a
 * finite numeric whose value overflows to infinity or underflows to zero is out of range, e.g. `1e400::float8`, never
 * `Infinity`.
 */
function numericToFloat(to: 'float4' | 'float8', value: Decimal): number {
  const number = decimalToNumber(value)
  const result = to === 'float4' ? Math.fround(number) : number
  if (value.kind === 'finite' && (!Number.isFinite(result) || (result === 0 && value.unscaled !== 0n))) {
    throw new SqlValueError(`"${formatDecimal(value)}" is out of range for type ${TYPE_LABEL[to]}`)
  }
  return result
}

/** Converts a value to another type, as the cast `value::to` does (only pairs `isSupportedCast` allows). */
export function castSqlValue(from: SqlType, to: SqlType, value: SqlValue): SqlValue {
  if (from === to) return value
  if (from === 'text' || from === 'bpchar') return parseSqlValue(to, value as string)
  if (to === 'text') return formatSqlValue(from, value)
  if (isInteger(to)) {
    if (isInteger(from)) return checkInteger(to, value as bigint)
    if (from === 'numeric') {
      const rounded = roundDecimal(value as Decimal)
      if (rounded === undefined) throw new SqlValueError(`cannot convert ${formatDecimal(value as Decimal)} to ${TYPE_LABEL[to]}`)
      return checkInteger(to, rounded)
    }
    const number = value as number
    if (!Number.isFinite(number)) throw new SqlValueError(`${TYPE_LABEL[to]} out of range`)
    return checkInteger(to, BigInt(roundHalfEven(number)))
  }
  if (isFloat(to)) {
    if (from === 'numeric') return numericToFloat(to, value as Decimal)
    const number = isInteger(from) ? Number(value as bigint) : (value as number)
    const result = to === 'float4' ? Math.fround(number) : number
    // float8 → float4 (dtof): a finite value too large or a non-zero one too small for single precision raises.
    if (!Number.isFinite(result) && Number.isFinite(number)) throw new SqlValueError('value out of range: overflow')
    if (result === 0 && number !== 0) throw new SqlValueError('value out of range: underflow')
    return result
  }
  if (to === 'numeric') return toDecimal(from, value)
  if (to === 'date') return truncateToDay(value as Instant)
  // date → timestamp(tz) and timestamp ↔ timestamptz keep the instant (TimeZone=UTC); a date past 294276 has none.
  if (to === 'timestamp' || to === 'timestamptz') {
    if (!isInstantInRange(value as Instant, to)) throw new SqlValueError('date out of range for timestamp')
  }
  return value
}
