/**
 * Exact `numeric` values for evaluating shape where clauses: Postgres compares and adds decimals exactly, so we
 * do too (a float would call `0.1 + 0.2 = 0.3` false and `10000000000000001 = 10000000000000000` true).
 *
 * Rules:
 * - A finite value is `unscaled / 10^scale`; `scale` is the number of fraction digits Postgres would print
 *   (`1.50` has scale 2). Equality and order ignore scale, as in Postgres (`1.50 = 1.5`).
 * - `NaN` equals `NaN` and sorts above every other value, `Infinity` included (Postgres' numeric order).
 * - Result scales follow Postgres: `+`/`-`/`%` take the larger scale, `*` the sum of both (at most 16 383, rounded
 *   half away from zero), `/` the scale of Postgres' `select_div_scale` (at least 16 significant digits), rounded
 *   half away from zero.
 * - A result with more than 131 072 digits before the point overflows, as in Postgres ("value overflows numeric
 *   format"). These two bounds also keep a hostile chain of constants (`1 / 3e-10000 / 3e-10000 / …`) from growing
 *   bigints without end while the clause is folded: each value stays under ~150 000 digits.
 */

/** A Postgres `numeric` value. */
export type Decimal =
  | { readonly kind: 'finite'; readonly unscaled: bigint; readonly scale: number }
  | { readonly kind: 'nan' }
  | { readonly kind: 'infinity'; readonly negative: boolean }

/** Raised for arithmetic Postgres refuses (division by zero). */
export class DecimalArithmeticError extends Error {}

const DECIMAL_INPUT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
/** Postgres caps numeric input far above this; we cap exponents to keep bigint work bounded. */
const MAX_EXPONENT = 10_000

/** Postgres' `NUMERIC_DSCALE_MAX`: the largest scale a result of `*` keeps. */
const MAX_RESULT_SCALE = 16_383
/** Postgres' numeric format holds at most this many digits before the decimal point. */
const MAX_INTEGER_DIGITS = 131_072
let integerLimit: bigint | undefined

/** The value itself, or "value overflows numeric format" when Postgres could not hold it. */
function checkedFinite(unscaled: bigint, scale: number): Decimal {
  const magnitude = unscaled < 0n ? -unscaled : unscaled
  integerLimit ??= 10n ** BigInt(MAX_INTEGER_DIGITS)
  if (magnitude >= integerLimit && magnitude / 10n ** BigInt(scale) >= integerLimit) {
    throw new DecimalArithmeticError('value overflows numeric format')
  }
  return { kind: 'finite', unscaled, scale }
}

/** Parses Postgres `numeric` input or output text; undefined when Postgres would reject it. */
export function parseDecimal(text: string): Decimal | undefined {
  const trimmed = text.trim()
  const lower = trimmed.toLowerCase()
  if (lower === 'nan') return { kind: 'nan' }
  if (lower === 'infinity' || lower === '+infinity' || lower === 'inf' || lower === '+inf') {
    return { kind: 'infinity', negative: false }
  }
  if (lower === '-infinity' || lower === '-inf') return { kind: 'infinity', negative: true }
  const match = DECIMAL_INPUT.exec(trimmed)
  if (!match) return undefined
  const sign = match[1] ?? ''
  const whole = match[2] ?? ''
  const fraction = match[3] ?? ''
  if (whole === '' && fraction === '') return undefined
  const exponent = match[4] === undefined ? 0 : Number(match[4])
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined
  let digits = BigInt(`${whole}${fraction}` || '0')
  let scale = fraction.length - exponent
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale)
    scale = 0
  }
  return { kind: 'finite', unscaled: sign === '-' ? -digits : digits, scale }
}

/** A finite decimal from an integer. */
export function decimalFromBigInt(value: bigint): Decimal {
  return { kind: 'finite', unscaled: value, scale: 0 }
}

function align(a: { unscaled: bigint; scale: number }, b: { unscaled: bigint; scale: number }) {
  const scale = Math.max(a.scale, b.scale)
  return {
    left: a.unscaled * 10n ** BigInt(scale - a.scale),
    right: b.unscaled * 10n ** BigInt(scale - b.scale),
    scale,
  }
}

function rank(value: Decimal): number {
  if (value.kind === 'nan') return 2
  if (value.kind === 'infinity') return value.negative ? -1 : 1
  return 0
}

/** Postgres numeric order: negative, zero or positive. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.kind === 'finite' && b.kind === 'finite') {
    const { left, right } = align(a, b)
    return left < right ? -1 : left > right ? 1 : 0
  }
  return Math.sign(rank(a) - rank(b))
}

export function negateDecimal(value: Decimal): Decimal {
  if (value.kind === 'finite') return { kind: 'finite', unscaled: -value.unscaled, scale: value.scale }
  if (value.kind === 'infinity') return { kind: 'infinity', negative: !value.negative }
  return value
}

export function absDecimal(value: Decimal): Decimal {
  if (value.kind === 'finite') return value.unscaled < 0n ? negateDecimal(value) : value
  if (value.kind === 'infinity') return { kind: 'infinity', negative: false }
  return value
}

function signOf(value: Decimal): number {
  if (value.kind === 'finite') return value.unscaled < 0n ? -1 : value.unscaled > 0n ? 1 : 0
  if (value.kind === 'infinity') return value.negative ? -1 : 1
  return 0
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' }
  if (a.kind === 'infinity' && b.kind === 'infinity') return a.negative === b.negative ? a : { kind: 'nan' }
  if (a.kind === 'infinity') return a
  if (b.kind === 'infinity') return b
  const { left, right, scale } = align(a, b)
  return checkedFinite(left + right, scale)
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, negateDecimal(b))
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' }
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    const sign = signOf(a) * signOf(b)
    return sign === 0 ? { kind: 'nan' } : { kind: 'infinity', negative: sign < 0 }
  }
  const product = a.unscaled * b.unscaled
  const excess = a.scale + b.scale - MAX_RESULT_SCALE
  if (excess <= 0) return checkedFinite(product, a.scale + b.scale)
  return checkedFinite(divideRounded(product, 10n ** BigInt(excess)), MAX_RESULT_SCALE)
}

/** `a % b`: the remainder takes the dividend's sign, as in Postgres. */
export function moduloDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' }
  if (signOf(b) === 0) throw new DecimalArithmeticError('division by zero')
  if (a.kind === 'infinity') return { kind: 'nan' }
  if (b.kind === 'infinity') return a
  const { left, right, scale } = align(a, b)
  return checkedFinite(left % right, scale)
}

/** The base-10000 weight and leading base-10000 digit Postgres stores for a finite value (0 and 0 for zero). */
function leadingGroup(value: { unscaled: bigint; scale: number }): { weight: number; digit: bigint } {
  const magnitude = value.unscaled < 0n ? -value.unscaled : value.unscaled
  if (magnitude === 0n) return { weight: 0, digit: 0n }
  const exponent = magnitude.toString().length - 1 - value.scale
  const weight = Math.floor(exponent / 4)
  const shift = value.scale + 4 * weight
  const digit = shift >= 0 ? magnitude / 10n ** BigInt(shift) : magnitude * 10n ** BigInt(-shift)
  return { weight, digit }
}

/** `a / b` with Postgres' result scale; division by zero raises. */
export function divideDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' }
  if (signOf(b) === 0) throw new DecimalArithmeticError('division by zero')
  if (a.kind === 'infinity') {
    return b.kind === 'infinity' ? { kind: 'nan' } : { kind: 'infinity', negative: a.negative !== signOf(b) < 0 }
  }
  if (b.kind === 'infinity') return { kind: 'finite', unscaled: 0n, scale: 0 }
  const first = leadingGroup(a)
  const second = leadingGroup(b)
  const quotientWeight = first.weight - second.weight - (first.digit <= second.digit ? 1 : 0)
  const scale = Math.min(Math.max(16 - quotientWeight * 4, a.scale, b.scale, 0), 1000)
  const numerator = a.unscaled * 10n ** BigInt(b.scale + scale)
  const denominator = b.unscaled * 10n ** BigInt(a.scale)
  return checkedFinite(divideRounded(numerator, denominator), scale)
}

/** `numerator / denominator` rounded half away from zero. */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n
  const n = numerator < 0n ? -numerator : numerator
  const d = denominator < 0n ? -denominator : denominator
  const rounded = (2n * n + d) / (2n * d)
  return negative ? -rounded : rounded
}

/** Postgres `numeric` output text (fixed point, never an exponent). */
export function formatDecimal(value: Decimal): string {
  if (value.kind === 'nan') return 'NaN'
  if (value.kind === 'infinity') return value.negative ? '-Infinity' : 'Infinity'
  const negative = value.unscaled < 0n
  const digits = (negative ? -value.unscaled : value.unscaled).toString().padStart(value.scale + 1, '0')
  const whole = digits.slice(0, digits.length - value.scale)
  const fraction = digits.slice(digits.length - value.scale)
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`
}

/** Nearest double, as Postgres' numeric → float8 cast (which goes through the decimal text). */
export function decimalToNumber(value: Decimal): number {
  if (value.kind === 'nan') return Number.NaN
  if (value.kind === 'infinity') return value.negative ? -Infinity : Infinity
  return Number(formatDecimal(value))
}

/** Rounds half away from zero to an integer (Postgres' numeric → integer cast); undefined for NaN/Infinity. */
export function roundDecimal(value: Decimal): bigint | undefined {
  if (value.kind !== 'finite') return undefined
  if (value.scale === 0) return value.unscaled
  const divisor = 10n ** BigInt(value.scale)
  const magnitude = value.unscaled < 0n ? -value.unscaled : value.unscaled
  const rounded = (magnitude * 2n + divisor) / (divisor * 2n)
  return value.unscaled < 0n ? -rounded : rounded
}
