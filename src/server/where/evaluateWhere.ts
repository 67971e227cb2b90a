/**
 * Compiles a validated WhereExpr into a function over wire rows, with Postgres semantics.
 *
 * Rules:
 * - Three-valued logic: `null` is SQL NULL; AND is false if any argument is false, else NULL if any is NULL;
 *   OR dually; comparisons, arithmetic, LIKE, `||` and functions of NULL are NULL; `IS …` tests never are.
 * - A column missing from the row is NULL (a delete may carry only the key).
 * - What Postgres would raise an error for (overflow, division by zero, a bad cast, an unparsable wire value)
 *   throws `SqlValueError`/`DecimalArithmeticError`; `compileWhere`'s `matches` maps that to "does not match".
 * - Constant LIKE patterns are compiled once per shape, never per row.
 * - AND/OR give their decisive answer (FALSE/TRUE) if any argument has it, even when another argument raises:
 *   Postgres may evaluate the arguments in any order (it sorts quals by cost), so whenever it returns a value at
 *   all, that is the value. Callers should evaluate the tree `foldConstants` produced, as Postgres executes it.
 */
import type { WireRow } from '../../core/protocol'
import {
  absDecimal,
  addDecimal,
  divideDecimal,
  moduloDecimal,
  multiplyDecimal,
  negateDecimal,
  subtractDecimal,
  type Decimal,
} from './decimal'
import { compileLikePattern, foldCase, upperCase, type LikePattern } from './likePattern'
import { isFloat, isInteger, type SqlType } from './sqlType'
import { castSqlValue, checkInteger, compareSqlValues, parseSqlValue, SqlValueError, type SqlValue } from './sqlValue'
import type { ArithmeticOperator, CompareOperator, OpaqueColumn, WhereExpr } from './whereExpr'

/** A compiled expression: its value on a row, `null` for SQL NULL. */
type Evaluator = (row: WireRow) => SqlValue | null

function compareResult(operator: CompareOperator, order: number): boolean {
  switch (operator) {
    case '=':
      return order === 0
    case '<>':
      return order !== 0
    case '<':
      return order < 0
    case '<=':
      return order <= 0
    case '>':
      return order > 0
    case '>=':
      return order >= 0
  }
}

function integerArithmetic(type: 'int2' | 'int4' | 'int8', operator: ArithmeticOperator, a: bigint, b: bigint): bigint {
  if ((operator === '/' || operator === '%') && b === 0n) throw new SqlValueError('division by zero')
  const result =
    operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : operator === '/' ? a / b : a % b
  return checkInteger(type, result)
}

/** Postgres' float operators: overflow and underflow raise, and so does `x / 0` unless `x` is NaN. */
function floatArithmetic(type: 'float4' | 'float8', operator: ArithmeticOperator, a: number, b: number): number {
  if (operator === '/' && b === 0 && !Number.isNaN(a)) throw new SqlValueError('division by zero')
  const raw = operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : a / b
  const result = type === 'float4' ? Math.fround(raw) : raw
  if (Number.isFinite(a) && Number.isFinite(b) && !Number.isFinite(result) && !Number.isNaN(result)) {
    throw new SqlValueError('value out of range: overflow')
  }
  const underflow =
    result === 0 && a !== 0 && ((operator === '*' && b !== 0) || (operator === '/' && Number.isFinite(b)))
  if (underflow) throw new SqlValueError('value out of range: underflow')
  return result
}

function decimalArithmetic(operator: ArithmeticOperator, a: Decimal, b: Decimal): Decimal {
  if (operator === '+') return addDecimal(a, b)
  if (operator === '-') return subtractDecimal(a, b)
  if (operator === '*') return multiplyDecimal(a, b)
  if (operator === '%') return moduloDecimal(a, b)
  return divideDecimal(a, b)
}

function arithmetic(type: SqlType, operator: ArithmeticOperator, a: SqlValue, b: SqlValue): SqlValue {
  if (isInteger(type)) return integerArithmetic(type, operator, a as bigint, b as bigint)
  if (isFloat(type)) return floatArithmetic(type, operator, a as number, b as number)
  return decimalArithmetic(operator, a as Decimal, b as Decimal)
}

function negate(type: SqlType, value: SqlValue): SqlValue {
  if (isInteger(type)) return checkInteger(type, -(value as bigint))
  if (isFloat(type)) return -(value as number)
  return negateDecimal(value as Decimal)
}

function absolute(type: SqlType, value: SqlValue): SqlValue {
  if (isInteger(type)) return checkInteger(type, (value as bigint) < 0n ? -(value as bigint) : (value as bigint))
  if (isFloat(type)) return Math.abs(value as number)
  return absDecimal(value as Decimal)
}

function likeMatcher(caseInsensitive: boolean, row: WireRow, evaluate: Evaluator, fixed: LikePattern | undefined) {
  if (fixed) return fixed
  const value = evaluate(row)
  if (value === null) return null
  return compileLikePattern(caseInsensitive ? foldCase(value as string) : (value as string))
}

/** Compiles an expression. */
export function evaluateWhere(expr: WhereExpr | OpaqueColumn): Evaluator {
  switch (expr.kind) {
    case 'column':
    case 'opaqueColumn': {
      const { name } = expr
      const type = expr.kind === 'column' ? expr.type : undefined
      return (row) => {
        const text = row[name]
        if (text === undefined || text === null) return null
        return type === undefined ? text : parseSqlValue(type, text)
      }
    }
    case 'columnText': {
      const { name } = expr
      return (row) => row[name] ?? null
    }
    case 'constant':
    case 'param': {
      const { value } = expr
      return () => value
    }
    case 'and':
    case 'or': {
      const args = expr.args.map(evaluateWhere)
      const decisive = expr.kind === 'or'
      return (row) => {
        let sawNull = false
        let failure: unknown
        let failed = false
        for (const arg of args) {
          let value
          try {
            value = arg(row)
          } catch (error) {
            failed = true
            failure = error
            continue
          }
          if (value === null) sawNull = true
          else if (value === decisive) return decisive
        }
        if (failed) throw failure
        return sawNull ? null : !decisive
      }
    }
    case 'not': {
      const arg = evaluateWhere(expr.arg)
      return (row) => {
        const value = arg(row)
        return value === null ? null : !value
      }
    }
    case 'compare': {
      const { operator } = expr
      const type = expr.left.type
      const left = evaluateWhere(expr.left)
      const right = evaluateWhere(expr.right)
      return (row) => {
        const a = left(row)
        const b = right(row)
        return a === null || b === null ? null : compareResult(operator, compareSqlValues(type, a, b))
      }
    }
    case 'distinct': {
      const type = expr.left.type
      const { negated } = expr
      const left = evaluateWhere(expr.left)
      const right = evaluateWhere(expr.right)
      return (row) => {
        const a = left(row)
        const b = right(row)
        const same = a === null || b === null ? a === b : compareSqlValues(type, a, b) === 0
        return negated ? same : !same
      }
    }
    case 'arithmetic': {
      const { type, operator } = expr
      const left = evaluateWhere(expr.left)
      const right = evaluateWhere(expr.right)
      return (row) => {
        const a = left(row)
        const b = right(row)
        return a === null || b === null ? null : arithmetic(type, operator, a, b)
      }
    }
    case 'negate': {
      const { type } = expr
      const arg = evaluateWhere(expr.arg)
      return (row) => {
        const value = arg(row)
        return value === null ? null : negate(type, value)
      }
    }
    case 'concat': {
      const left = evaluateWhere(expr.left)
      const right = evaluateWhere(expr.right)
      return (row) => {
        const a = left(row)
        const b = right(row)
        return a === null || b === null ? null : `${a as string}${b as string}`
      }
    }
    case 'like': {
      const { negated, caseInsensitive } = expr
      const arg = evaluateWhere(expr.arg)
      const pattern = evaluateWhere(expr.pattern)
      const constant = expr.pattern.kind === 'constant' || expr.pattern.kind === 'param'
      const fixedText = constant ? pattern({}) : null
      const fixedPattern = fixedText === null ? undefined : (fixedText as string)
      const fixed =
        fixedPattern === undefined ? undefined : compileLikePattern(caseInsensitive ? foldCase(fixedPattern) : fixedPattern)
      return (row) => {
        const value = arg(row)
        const matcher = likeMatcher(caseInsensitive, row, pattern, fixed)
        if (value === null || matcher === null) return null
        const matched = matcher.matches(caseInsensitive ? foldCase(value as string) : (value as string))
        return negated ? !matched : matched
      }
    }
    case 'isNull': {
      const { negated } = expr
      const arg = evaluateWhere(expr.arg)
      return (row) => (arg(row) === null) !== negated
    }
    case 'booleanTest': {
      const { test } = expr
      const arg = evaluateWhere(expr.arg)
      return (row) => {
        const value = arg(row)
        switch (test) {
          case 'IS TRUE':
            return value === true
          case 'IS NOT TRUE':
            return value !== true
          case 'IS FALSE':
            return value === false
          case 'IS NOT FALSE':
            return value !== false
          case 'IS UNKNOWN':
            return value === null
          case 'IS NOT UNKNOWN':
            return value !== null
        }
      }
    }
    case 'function': {
      const { name, type } = expr
      const arg = evaluateWhere(expr.arg)
      return (row) => {
        const value = arg(row)
        if (value === null) return null
        if (name === 'lower') return foldCase(value as string)
        if (name === 'upper') return upperCase(value as string)
        if (name === 'char_length') return BigInt(Array.from(value as string).length)
        return absolute(type, value)
      }
    }
    case 'coalesce': {
      const args = expr.args.map(evaluateWhere)
      return (row) => {
        for (const arg of args) {
          const value = arg(row)
          if (value !== null) return value
        }
        return null
      }
    }
    case 'cast': {
      const { type } = expr
      const from = expr.arg.type
      const arg = evaluateWhere(expr.arg)
      return (row) => {
        const value = arg(row)
        return value === null ? null : castSqlValue(from, type, value)
      }
    }
  }
}
