/**
 * Folds the constant parts of a validated where clause the way Postgres' planner does before running it, so the
 * evaluator sees what Postgres executes.
 *
 * Rules:
 * - `$n` values are constants: the dev server's snapshot query is planned with its bound values.
 * - A strict operation with a NULL operand is NULL, whatever its other operands would do (`1/0 <> NULL`).
 * - AND with a FALSE argument is FALSE and drops TRUE ones; OR dually; NULL arguments stay.
 * - COALESCE drops NULL constants and stops at its first non-NULL constant.
 * - Any other node whose operands are all constants is evaluated now; if that raises, Postgres would raise
 *   while planning, so the clause is refused (`WhereClauseError`) instead of failing every snapshot.
 * - Casts involving `timestamptz` are not folded: they depend on the session time zone, so Postgres treats
 *   them as stable and evaluates them per row.
 */
import { evaluateWhere } from './evaluateWhere'
import { isEvaluationError } from './sqlValue'
import { WhereClauseError } from './whereClauseError'
import type { OpaqueColumn, WhereExpr } from './whereExpr'

type Constant = Extract<WhereExpr, { kind: 'constant' }>

const isConstant = (expr: WhereExpr | OpaqueColumn): expr is Constant => expr.kind === 'constant'
const isNull = (expr: WhereExpr | OpaqueColumn): boolean => isConstant(expr) && expr.value === null

function evaluateNow(expr: WhereExpr): Constant {
  try {
    const value = evaluateWhere(expr)({})
    return { kind: 'constant', type: expr.type, value }
  } catch (error) {
    if (isEvaluationError(error)) {
      throw new WhereClauseError('where', [`Invalid where clause: ${error.message}`])
    }
    throw error
  }
}

function junction(kind: 'and' | 'or', args: readonly WhereExpr[]): WhereExpr {
  const decisive = kind === 'or'
  const kept: WhereExpr[] = []
  for (const arg of args) {
    if (isConstant(arg) && arg.value === decisive) return arg
    if (isConstant(arg) && arg.value === !decisive) continue
    kept.push(arg)
  }
  if (kept.length === 0) return { kind: 'constant', type: 'bool', value: !decisive }
  return kept.length === 1 && kept[0] ? kept[0] : { kind, type: 'bool', args: kept }
}

/** The clause with its constant parts folded; throws `WhereClauseError` when folding raises. */
export function foldConstants(expr: WhereExpr): WhereExpr {
  switch (expr.kind) {
    case 'column':
    case 'columnText':
    case 'constant':
      return expr
    case 'param':
      return { kind: 'constant', type: expr.type, value: expr.value }
    case 'and':
    case 'or':
      return junction(expr.kind, expr.args.map(foldConstants))
    case 'coalesce': {
      const args = expr.args.map(foldConstants).filter((arg) => !isNull(arg))
      const firstConstant = args.findIndex(isConstant)
      const kept = firstConstant === -1 ? args : args.slice(0, firstConstant + 1)
      if (kept.length === 0) return { kind: 'constant', type: expr.type, value: null }
      if (kept.length === 1 && kept[0] && isConstant(kept[0])) return kept[0]
      return { ...expr, args: kept }
    }
    case 'isNull': {
      const arg = expr.arg.kind === 'opaqueColumn' ? expr.arg : foldConstants(expr.arg)
      const folded = { ...expr, arg }
      return isConstant(arg) ? evaluateNow(folded) : folded
    }
    case 'not':
    case 'booleanTest': {
      const folded = { ...expr, arg: foldConstants(expr.arg) }
      return isConstant(folded.arg) ? evaluateNow(folded) : folded
    }
    case 'negate':
    case 'function':
    case 'cast': {
      const folded = { ...expr, arg: foldConstants(expr.arg) }
      if (isNull(folded.arg)) return { kind: 'constant', type: expr.type, value: null }
      const zoned = expr.kind === 'cast' && (expr.type === 'timestamptz' || expr.arg.type === 'timestamptz')
      return isConstant(folded.arg) && !zoned ? evaluateNow(folded) : folded
    }
    case 'like': {
      const folded = { ...expr, arg: foldConstants(expr.arg), pattern: foldConstants(expr.pattern) }
      if (isNull(folded.arg) || isNull(folded.pattern)) return { kind: 'constant', type: 'bool', value: null }
      return isConstant(folded.arg) && isConstant(folded.pattern) ? evaluateNow(folded) : folded
    }
    case 'compare':
    case 'arithmetic':
    case 'concat':
    case 'distinct': {
      const folded = { ...expr, left: foldConstants(expr.left), right: foldConstants(expr.right) }
      if (expr.kind !== 'distinct' && (isNull(folded.left) || isNull(folded.right))) {
        return { kind: 'constant', type: expr.type, value: null }
      }
      return isConstant(folded.left) && isConstant(folded.right) ? evaluateNow(folded as WhereExpr) : (folded as WhereExpr)
    }
  }
}
