import { describe, expect, it } from 'vitest'
import { divideDecimal, parseDecimal } from '../../../src/server/where/decimal'
import { castSqlValue, isEvaluationError, parseSqlValue, SqlValueError } from '../../../src/server/where/sqlValue'
import { WhereClauseError } from '../../../src/server/where/whereClauseError'

/** The error `run` throws. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('isEvaluationError', () => {
  it('is true for what evaluating values raises and false for anything else', () => {
    const one = parseDecimal('1')
    const zero = parseDecimal('0')
    if (!one || !zero) throw new Error('decimal literals did not parse')
    const raised = [
      thrown(() => parseSqlValue('int4', 'abc')),
      thrown(() => castSqlValue('int8', 'int2', 40_000n)),
      thrown(() => divideDecimal(one, zero)),
    ]
    expect(raised.map(isEvaluationError)).toEqual([true, true, true])
    expect(raised[0]).toBeInstanceOf(SqlValueError)
    const others = [new Error('x'), new RangeError('x'), new WhereClauseError('where', ['x']), 'text', undefined]
    expect(others.map(isEvaluationError)).toEqual([false, false, false, false, false])
  })
})

describe('castSqlValue to floats', () => {
  const decimal = (text: string) => {
    const value = parseDecimal(text)
    if (value === undefined) throw new Error(`${text} did not parse`)
    return value
  }

  it('raises where the float cannot hold a finite numeric, instead of giving Infinity or 0', () => {
    expect((thrown(() => castSqlValue('numeric', 'float8', decimal('1e400'))) as Error).message).toBe(
      `"1${'0'.repeat(400)}" is out of range for type double precision`,
    )
    expect(thrown(() => castSqlValue('numeric', 'float8', decimal('-1e-400')))).toBeInstanceOf(SqlValueError)
    expect((thrown(() => castSqlValue('numeric', 'float4', decimal('1e39'))) as Error).message).toBe(
      `"1${'0'.repeat(39)}" is out of range for type real`,
    )
    expect((thrown(() => castSqlValue('float8', 'float4', 1e300)) as Error).message).toBe('value out of range: overflow')
    expect((thrown(() => castSqlValue('float8', 'float4', -1e-300)) as Error).message).toBe('value out of range: underflow')
  })

  it('keeps what fits, the special values, and subnormals', () => {
    expect(castSqlValue('numeric', 'float8', decimal('1e308'))).toBe(1e308)
    expect(castSqlValue('numeric', 'float8', decimal('0'))).toBe(0)
    expect(castSqlValue('numeric', 'float8', decimal('NaN'))).toBeNaN()
    expect(castSqlValue('numeric', 'float8', decimal('-Infinity'))).toBe(-Infinity)
    expect(castSqlValue('numeric', 'float4', decimal('1e-40'))).toBe(Math.fround(1e-40))
    expect(castSqlValue('float8', 'float4', Infinity)).toBe(Infinity)
    expect(castSqlValue('float8', 'float4', 0)).toBe(0)
    expect(castSqlValue('int8', 'float4', 9223372036854775807n)).toBe(Math.fround(9223372036854775807))
  })
})
