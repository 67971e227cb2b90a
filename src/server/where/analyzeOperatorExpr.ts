/**
 * Typing operator expressions (`A_Expr`) of a where clause: comparisons, arithmetic, `||`, LIKE/ILIKE, IN,
 * BETWEEN and IS [NOT] DISTINCT FROM. Part of `analyzeWhere` (its file-top invariants hold here too).
 *
 * Rules:
 * - Both operands of a comparison or arithmetic take their common type (sqlType.ts: the type Postgres' implicit casts
 *   would pick); without one, or for an operator the type lacks (`%` on floats), the refusal is Postgres' "operator
 *   does not exist".
 * - IN becomes `=` comparisons joined by OR (NOT IN: `<>` joined by AND); BETWEEN becomes `>=` AND `<=`, and
 *   its SYMMETRIC form accepts the bounds in either order; so the evaluator and the rendered SQL see only those.
 * - A constant or `$n` LIKE pattern is checked now, so a malformed pattern is refused at compile time.
 */
import type { Node } from 'libpg-query'
import { IN_SHAPE_WHERE, isTextual, junction, noOperator, whereError, type Analyzed, type OperandScope } from './analyzedValue'
import { compileLikePattern } from './likePattern'
import { builtinName, listItems, required, stringsOf } from './parseTreeNodes'
import { commonType, isNumber, isSupportedCast, type SqlType } from './sqlType'
import { SqlValueError } from './sqlValue'
import { ARITHMETIC_OPERATORS, COMPARE_OPERATORS, LIKE_OPERATORS } from './whereAllowList'
import { WhereClauseError } from './whereClauseError'
import type { ArithmeticOperator, CompareOperator, WhereExpr } from './whereExpr'

/** Both operands of `operator`, typed at their common type. */
interface TypedPair {
  left: WhereExpr
  right: WhereExpr
  type: SqlType
}

/** Both operands at their common type (sqlType.ts), or Postgres' "operator does not exist". */
function typedPair(scope: OperandScope, left: Analyzed, right: Analyzed, operator: string): TypedPair {
  if (left.kind === 'opaqueColumn' || right.kind === 'opaqueColumn') {
    return { left: scope.coerce(left, 'text'), right: scope.coerce(right, 'text'), type: 'text' }
  }
  const type = commonType(left.kind === 'untyped' ? 'unknown' : left.type, right.kind === 'untyped' ? 'unknown' : right.type)
  if (type === undefined || type === 'unknown') throw noOperator(left, operator, right)
  return { left: scope.coerce(left, type), right: scope.coerce(right, type), type }
}

function comparison(scope: OperandScope, operator: CompareOperator, left: Analyzed, right: Analyzed): WhereExpr {
  const pair = typedPair(scope, left, right, operator)
  return { kind: 'compare', type: 'bool', operator, left: pair.left, right: pair.right }
}

/** Types an operator expression; throws `WhereClauseError` naming what is refused. */
export function analyzeOperatorExpr(scope: OperandScope, expr: Extract<Node, { A_Expr: unknown }>['A_Expr']): Analyzed {
  const names = stringsOf(expr.name)
  if (names?.length !== 1) throw whereError(`Schema-qualified operators are not supported ${IN_SHAPE_WHERE}`)
  const operator = names[0] ?? ''
  const kind = expr.kind ?? 'AEXPR_OP'
  switch (kind) {
    case 'AEXPR_OP':
      return operatorCall(scope, operator, expr.lexpr, required(expr.rexpr))
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE':
      return likeExpr(scope, operator, required(expr.lexpr), required(expr.rexpr))
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      const pair = typedPair(scope, scope.node(required(expr.lexpr)), scope.node(required(expr.rexpr)), '=')
      return { kind: 'distinct', type: 'bool', negated: kind === 'AEXPR_NOT_DISTINCT', left: pair.left, right: pair.right }
    }
    case 'AEXPR_IN': {
      const arg = scope.node(required(expr.lexpr))
      const list = listItems(required(expr.rexpr))
      const negated = operator === '<>'
      const comparisons = list.map((item) => comparison(scope, negated ? '<>' : '=', arg, scope.node(item)))
      return comparisons.length === 1 && comparisons[0] ? comparisons[0] : junction(negated ? 'and' : 'or', comparisons)
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM':
      return betweenExpr(scope, kind, required(expr.lexpr), listItems(required(expr.rexpr)))
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL':
      throw whereError(`${kind === 'AEXPR_OP_ANY' ? 'ANY' : 'ALL'} (array) comparisons are not supported ${IN_SHAPE_WHERE}`)
    case 'AEXPR_SIMILAR':
      throw whereError(`SIMILAR TO is not supported ${IN_SHAPE_WHERE}`)
    case 'AEXPR_NULLIF':
      throw whereError(`NULLIF is not supported ${IN_SHAPE_WHERE}`)
    default:
      throw whereError(`Operator ${kind} is not supported ${IN_SHAPE_WHERE}`)
  }
}

function operatorCall(scope: OperandScope, operator: string, leftNode: Node | undefined, rightNode: Node): Analyzed {
  const like = LIKE_OPERATORS[operator]
  if (like && leftNode) return likeExpr(scope, operator, leftNode, rightNode)
  const right = scope.node(rightNode)
  if (!leftNode) {
    if (operator !== '-' && operator !== '+') throw whereError(`Prefix operator "${operator}" is not allowed ${IN_SHAPE_WHERE}`)
    if (right.kind === 'untyped' || right.kind === 'opaqueColumn' || !isNumber(right.type)) {
      throw noOperator(undefined, operator, right)
    }
    return operator === '+' ? right : { kind: 'negate', type: right.type, arg: right }
  }
  const left = scope.node(leftNode)
  if (COMPARE_OPERATORS.includes(operator)) return comparison(scope, operator as CompareOperator, left, right)
  if (ARITHMETIC_OPERATORS.includes(operator)) return arithmeticExpr(scope, operator as ArithmeticOperator, left, right)
  if (operator === '||') return concatExpr(scope, left, right)
  throw whereError(`Operator "${operator}" is not allowed ${IN_SHAPE_WHERE}`)
}

function arithmeticExpr(scope: OperandScope, operator: ArithmeticOperator, left: Analyzed, right: Analyzed): WhereExpr {
  const pair = typedPair(scope, left, right, operator)
  const { type } = pair
  const floatModulo = operator === '%' && (type === 'float4' || type === 'float8')
  if (!isNumber(type) || floatModulo) throw noOperator(left, operator, right)
  return { kind: 'arithmetic', type, operator, left: pair.left, right: pair.right }
}

/** `||`: text with text, or text with a value that has an exact text form (Postgres' `anynonarray || text`). */
function concatExpr(scope: OperandScope, left: Analyzed, right: Analyzed): WhereExpr {
  const asText = (value: Analyzed): WhereExpr => {
    if (isTextual(value)) return scope.coerce(value, 'text')
    if (value.kind === 'untyped' || value.kind === 'opaqueColumn' || !isSupportedCast(value.type, 'text')) {
      throw noOperator(left, '||', right)
    }
    return { kind: 'cast', type: 'text', arg: value }
  }
  if (!isTextual(left) && !isTextual(right)) throw noOperator(left, '||', right)
  return { kind: 'concat', type: 'text', left: asText(left), right: asText(right) }
}

function likeExpr(scope: OperandScope, operator: string, argNode: Node, patternNode: Node): WhereExpr {
  const { negated, caseInsensitive } = LIKE_OPERATORS[operator] ?? { negated: false, caseInsensitive: false }
  if ('FuncCall' in patternNode && builtinName(patternNode.FuncCall.funcname) === 'like_escape') {
    throw whereError(`LIKE … ESCAPE is not supported ${IN_SHAPE_WHERE} (use the default backslash escape)`)
  }
  const arg = scope.node(argNode)
  const pattern = scope.node(patternNode)
  if (!isTextual(arg) || !isTextual(pattern)) throw noOperator(arg, operator, pattern)
  if (arg.kind !== 'untyped' && arg.kind !== 'opaqueColumn' && arg.type === 'bpchar') {
    throw whereError(`LIKE on character(n) values is not supported ${IN_SHAPE_WHERE} (cast the column to text)`)
  }
  const typedPattern = scope.coerce(pattern, 'text')
  if (typedPattern.kind === 'constant' || typedPattern.kind === 'param') {
    try {
      if (typedPattern.value !== null) compileLikePattern(typedPattern.value as string)
    } catch (error) {
      if (!(error instanceof SqlValueError)) throw error
      if (typedPattern.kind === 'param') {
        throw new WhereClauseError('params', [`Invalid value for $${typedPattern.number}: ${error.message}`])
      }
      throw whereError(error.message)
    }
  }
  return { kind: 'like', type: 'bool', negated, caseInsensitive, arg: scope.coerce(arg, 'text'), pattern: typedPattern }
}

function betweenExpr(scope: OperandScope, kind: string, argNode: Node, bounds: readonly Node[]): WhereExpr {
  const [lowNode, highNode] = bounds
  if (!lowNode || !highNode) throw whereError('BETWEEN needs two bounds')
  const arg = scope.node(argNode)
  const low = scope.node(lowNode)
  const high = scope.node(highNode)
  const negated = kind === 'AEXPR_NOT_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN_SYM'
  const range = (from: Analyzed, to: Analyzed): WhereExpr =>
    negated
      ? { kind: 'or', type: 'bool', args: [comparison(scope, '<', arg, from), comparison(scope, '>', arg, to)] }
      : { kind: 'and', type: 'bool', args: [comparison(scope, '>=', arg, from), comparison(scope, '<=', arg, to)] }
  if (kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN') return range(low, high)
  return { kind: negated ? 'and' : 'or', type: 'bool', args: [range(low, high), range(high, low)] }
}
