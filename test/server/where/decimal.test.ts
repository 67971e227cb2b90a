import { describe, expect, it } from 'vitest'
import {
  addDecimal,
  compareDecimal,
  divideDecimal,
  DecimalArithmeticError,
  formatDecimal,
  moduloDecimal,
  multiplyDecimal,
  parseDecimal,
  roundDecimal,
  subtractDecimal,
  type Decimal,
} from '../../../src/server/where/decimal'

function decimal(text: string): Decimal {
  const value = parseDecimal(text)
  if (!value) throw new Error(`not a decimal: ${text}`)
  return value
}

describe('decimal', () => {
  it.each([
    ['1.50', '1.50'],
    ['-0.5', '-0.5'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['1.5e-3', '0.0015'],
    ['1e5', '100000'],
    ['  +7 ', '7'],
    ['nan', 'NaN'],
    ['-Infinity', '-Infinity'],
  ])('parses %s as %s', (input, output) => {
    expect(formatDecimal(decimal(input))).toBe(output)
  })

  it.each(['', '.', 'abc', '1.2.3', '1e', '--1', '0x10'])('refuses %j', (input) => {
    expect(parseDecimal(input)).toBeUndefined()
  })

  it.each([
    ['1.5', '1.50', 0],
    ['0.1', '0.10000000000000000000001', -1],
    ['100000000000000000001', '100000000000000000000', 1],
    ['-2', '1', -1],
    ['NaN', 'Infinity', 1],
    ['NaN', 'NaN', 0],
    ['-Infinity', '-99999999999', -1],
  ])('orders %s against %s as %i', (a, b, order) => {
    expect(compareDecimal(decimal(a), decimal(b))).toBe(order)
    expect(compareDecimal(decimal(b), decimal(a))).toBe(order === 0 ? 0 : -order)
  })

  it('adds, subtracts and multiplies exactly with Postgres result scales', () => {
    expect(formatDecimal(addDecimal(decimal('0.1'), decimal('0.2')))).toBe('0.3')
    expect(formatDecimal(subtractDecimal(decimal('1.00'), decimal('0.5')))).toBe('0.50')
    expect(formatDecimal(multiplyDecimal(decimal('1.2300'), decimal('2.0')))).toBe('2.46000')
    expect(formatDecimal(multiplyDecimal(decimal('Infinity'), decimal('0')))).toBe('NaN')
    expect(formatDecimal(addDecimal(decimal('Infinity'), decimal('-Infinity')))).toBe('NaN')
  })

  it('takes the remainder with the sign of the dividend and refuses a zero divisor', () => {
    expect(formatDecimal(moduloDecimal(decimal('-7.5'), decimal('2')))).toBe('-1.5')
    expect(formatDecimal(moduloDecimal(decimal('7'), decimal('-3')))).toBe('1')
    expect(() => moduloDecimal(decimal('1'), decimal('0.0'))).toThrow(DecimalArithmeticError)
  })

  it.each([
    ['1', '3', '0.33333333333333333333'],
    ['2', '3', '0.66666666666666666667'],
    ['-2', '3', '-0.66666666666666666667'],
    ['10', '4', '2.5000000000000000'],
    ['1.0000000000000000000001', '3', '0.3333333333333333333334'],
    ['123456789', '0.001', '123456789000.00000000'],
    ['0.00012345', '98765.4321', '0.0000000012499312499843758594'],
    ['99999', '10000', '9.9999000000000000'],
    ['1', 'Infinity', '0'],
    ['-Infinity', '2', '-Infinity'],
    ['NaN', '0', 'NaN'],
  ])('divides %s by %s as Postgres does: %s', (a, b, quotient) => {
    expect(formatDecimal(divideDecimal(decimal(a), decimal(b)))).toBe(quotient)
  })

  it('refuses division by zero', () => {
    expect(() => divideDecimal(decimal('1'), decimal('0.00'))).toThrow(DecimalArithmeticError)
  })

  it('rounds half away from zero like the numeric → integer cast', () => {
    expect(roundDecimal(decimal('2.5'))).toBe(3n)
    expect(roundDecimal(decimal('-2.5'))).toBe(-3n)
    expect(roundDecimal(decimal('2.49'))).toBe(2n)
    expect(roundDecimal(decimal('NaN'))).toBeUndefined()
  })

  // Postgres' bounds, checked on PGlite 18 and PostgreSQL 15: a product keeps at most 16 383 fraction digits (rounded
  // half away from zero), and a result with more than 131 072 digits before the point overflows.
  it('rounds a product to 16 383 fraction digits, as Postgres does', () => {
    const product = multiplyDecimal(decimal('1e-10000'), decimal('1e-10000'))
    expect(product).toEqual({ kind: 'finite', unscaled: 0n, scale: 16_383 })
    const smallest = (digit: string) => multiplyDecimal(decimal(`${digit}e-10000`), decimal('1e-6383'))
    expect(multiplyDecimal(smallest('5'), decimal('0.1'))).toEqual({ kind: 'finite', unscaled: 1n, scale: 16_383 })
    expect(multiplyDecimal(smallest('-5'), decimal('0.1'))).toEqual({ kind: 'finite', unscaled: -1n, scale: 16_383 })
    expect(compareDecimal(multiplyDecimal(smallest('4'), decimal('0.1')), decimal('0'))).toBe(0)
  })

  it('overflows past 131 072 digits before the point instead of growing without end', () => {
    const power = (count: number) => Array.from({ length: count }, () => decimal('1e10000')).reduce((a, b) => multiplyDecimal(a, b))
    expect(compareDecimal(power(13), decimal('0'))).toBe(1)
    expect(() => power(14)).toThrow(new DecimalArithmeticError('value overflows numeric format'))
    const largest = multiplyDecimal(power(13), decimal('9e1071'))
    expect(() => addDecimal(largest, largest)).toThrow('value overflows numeric format')
    // 1 / 3e-10000 / 3e-10000 / … grew by 10 000 digits a step (100 steps held the event loop for 40 s).
    let quotient = decimal('1')
    expect(() => {
      for (let step = 0; step < 100; step++) quotient = divideDecimal(quotient, decimal('3e-10000'))
    }).toThrow('value overflows numeric format')
  })
})
