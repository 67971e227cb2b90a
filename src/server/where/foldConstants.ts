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
 * - A text constant folding builds is at most `maxTextChars` long (compileWhere: the most text a request may carry,
 *   `maxWhereChars + maxParamsChars`), or the clause is refused: `lower($1 || $1 || …)` must not turn a 65 KB
 *   request into a 16 MB constant each shape keeps (240 copies held the server for 6 s and retained 500 MB).
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

function evaluateConstant(expr: WhereExpr, maxTextChars: number): Constant {
  let value: ReturnType<ReturnType<typeof evaluateWhere>>
  try {
    value = evaluateWhere(expr)({})
  } catch (error) {
    if (isEvaluationError(error)) {
      throw new WhereClauseError('where', [`Invalid where clause: ${error.message}`])
    }
    throw error
  }
  if (typeof value === 'string' && value.length > maxTextChars) {
    throw new WhereClauseError('where', [
      `Invalid where clause: a constant of ${value.length} characters, more than the server's limit of ${maxTextChars}`,
    ])
  }
  return { kind: 'constant', type: expr.type, value }
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
export function foldConstants(expr: WhereExpr, maxTextChars = Number.POSITIVE_INFINITY): WhereExpr {
  const fold = (arg: WhereExpr): WhereExpr => foldConstants(arg, maxTextChars)
  const evaluateNow = (folded: WhereExpr): Constant => evaluateConstant(folded, maxTextChars)
  switch (expr.kind) {
    case 'column':
    case 'columnText':
    case 'constant':
      return expr
    case 'param':
      return { kind: 'constant', type: expr.type, value: expr.value }
    case 'and':
    case 'or':
      return junction(expr.kind, expr.args.map(fold))
    case 'coalesce': {
      const args = expr.args.map(fold).filter((arg) => !isNull(arg))
      const firstConstant = args.findIndex(isConstant)
      const kept = firstConstant === -1 ? args : args.slice(0, firstConstant + 1)
      if (kept.length === 0) return { kind: 'constant', type: expr.type, value: null }
      if (kept.length === 1 && kept[0] && isConstant(kept[0])) return kept[0]
      return { ...expr, args: kept }
    }
    case 'isNull': {
      const arg = expr.arg.kind === 'opaqueColumn' ? expr.arg : fold(expr.arg)
      const folded = { ...expr, arg }
      return isConstant(arg) ? evaluateNow(folded) : folded
    }
    case 'not':
    case 'booleanTest': {
      const folded = { ...expr, arg: fold(expr.arg) }
      return isConstant(folded.arg) ? evaluateNow(folded) : folded
    }
    case 'negate':
    case 'function':
    case 'cast': {
      const folded = { ...expr, arg: fold(expr.arg) }
      if (isNull(folded.arg)) return { kind: 'constant', type: expr.type, value: null }
      const zoned = expr.kind === 'cast' && (expr.type === 'timestamptz' || expr.arg.type === 'timestamptz')
      return isConstant(folded.arg) && !zoned ? evaluateNow(folded) : folded
    }
    case 'like': {
      const folded = { ...expr, arg: fold(expr.arg), pattern: fold(expr.pattern) }
      if (isNull(folded.arg) || isNull(folded.pattern)) return { kind: 'constant', type: 'bool', value: null }
      return isConstant(folded.arg) && isConstant(folded.pattern) ? evaluateNow(folded) : folded
    }
    case 'compare':
    case 'arithmetic':
    case 'concat':
    case 'distinct': {
      const folded = { ...expr, left: fold(expr.left), right: fold(expr.right) }
      if (expr.kind !== 'distinct' && (isNull(folded.left) || isNull(folded.right))) {
        return { kind: 'constant', type: expr.type, value: null }
      }
      return isConstant(folded.left) && isConstant(folded.right) ? evaluateNow(folded as WhereExpr) : (folded as WhereExpr)
    }
  }
}
