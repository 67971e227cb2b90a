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

describe('isEvaluationError (V4)', () => {
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
