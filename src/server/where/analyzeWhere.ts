/**
 * Validates a where clause's parse tree against the allow-list (`whereAllowList.ts`) and the table, and types it
 * (parse tree → WhereExpr).
 *
 * Rules:
 * - A1. Only what `whereAllowList.ts` lists is accepted; every other node, operator, function or cast is refused
 *   by name with a `WhereClauseError`.
 * - A3. Columns are the table's own, unqualified or qualified by the table (and schema) name; quoted names keep
 *   their case (the parser already folded unquoted ones).
 * - A4. `$n` must be bound (1 ≤ n ≤ params.length) and is typed by context like an untyped literal; a value that
 *   does not parse as that type, or a `$n` used at two different types, is a `params` error at compile time.
 * - A5. The clause's type must be boolean.
 */
import type { Node } from 'libpg-query'
import type { TableDescription } from '../sources/source'
import { parseDecimal } from './decimal'
import { compileLikePattern } from './likePattern'
import {
  castTypeNamed,
  commonType,
  isImplicitCast,
  isNumber,
  isString,
  isSupportedCast,
  sqlTypeNamed,
  type ExprType,
  type SqlType,
} from './sqlType'
import { castSqlValue, isEvaluationError, parseSqlValue, SqlValueError, TYPE_LABEL } from './sqlValue'
import {
  ARITHMETIC_OPERATORS,
  BOOLEAN_TESTS,
  COMPARE_OPERATORS,
  FUNCTIONS,
  LIKE_OPERATORS,
  MAX_DEPTH,
  NODE_NAMES,
  TEXT_CAST_DIFFERS,
} from './whereAllowList'
import { WhereClauseError } from './whereClauseError'
import type { ArithmeticOperator, CompareOperator, OpaqueColumn, WhereExpr } from './whereExpr'

/** The result of analysis: the typed tree plus what it reads. */
interface WhereAnalysis {
  readonly expr: WhereExpr
  /** Column names read, in table order. */
  readonly columns: readonly string[]
  /** `$n` numbers used, ascending. */
  readonly paramNumbers: readonly number[]
}

/** An untyped literal or `$n` awaiting a type from its context (T2). */
interface Untyped {
  readonly kind: 'untyped'
  readonly text: string | null
  readonly param: number | undefined
}

type Analyzed = WhereExpr | Untyped | OpaqueColumn

const SUFFIX = "in a shape's where clause"

const where = (message: string): WhereClauseError => new WhereClauseError('where', [message])

function typeLabel(value: Analyzed): string {
  if (value.kind === 'untyped') return 'unknown'
  if (value.kind === 'opaqueColumn') return value.typeName
  return TYPE_LABEL[value.type]
}

/** Postgres' "operator does not exist" for `left operator right`, or for a prefix operator without `left`. */
function noOperator(left: Analyzed | undefined, operator: string, right: Analyzed): WhereClauseError {
  return where(`operator does not exist: ${left === undefined ? '' : `${typeLabel(left)} `}${operator} ${typeLabel(right)}`)
}

/** A value `LIKE` and `||` take as text: an untyped literal or `$n`, or a string-typed expression. */
function isTextual(value: Analyzed): boolean {
  return value.kind === 'untyped' || (value.kind !== 'opaqueColumn' && isString(value.type))
}

function stringsOf(nodes: readonly Node[] | undefined): string[] | undefined {
  const names: string[] = []
  for (const node of nodes ?? []) {
    if (!('String' in node)) return undefined
    names.push(node.String.sval ?? '')
  }
  return names
}

/** The name of a built-in (unqualified or `pg_catalog.`-qualified), or undefined for anything else. */
function builtinName(nodes: readonly Node[] | undefined): string | undefined {
  const names = stringsOf(nodes)
  if (names?.length === 1) return names[0]
  if (names?.length === 2 && names[0] === 'pg_catalog') return names[1]
  return undefined
}

class WhereAnalyzer {
  readonly #table: TableDescription
  readonly #params: readonly string[]
  readonly #paramTypes = new Map<number, SqlType>()
  readonly #columns = new Set<string>()
  #depth = 0

  constructor(table: TableDescription, params: readonly string[]) {
    this.#table = table
    this.#params = params
  }

  analyze(root: Node): WhereAnalysis {
    const analyzed = this.#node(root)
    const typed = this.#coerce(analyzed, 'bool', (actual) => `argument of WHERE must be type boolean, not type ${actual}`)
    return {
      expr: typed,
      columns: this.#table.columns.map((column) => column.name).filter((name) => this.#columns.has(name)),
      paramNumbers: [...this.#paramTypes.keys()].sort((a, b) => a - b),
    }
  }

  #node(node: Node): Analyzed {
    if (++this.#depth > MAX_DEPTH) throw where(`The where clause is nested too deeply (more than ${MAX_DEPTH} levels)`)
    try {
      return this.#nodeOf(node)
    } finally {
      this.#depth--
    }
  }

  #nodeOf(node: Node): Analyzed {
    if ('A_Const' in node) return this.#constant(node.A_Const)
    if ('ParamRef' in node) return this.#paramRef(node.ParamRef.number ?? 0)
    if ('ColumnRef' in node) return this.#columnRef(node.ColumnRef.fields ?? [])
    if ('BoolExpr' in node) {
      const args = (node.BoolExpr.args ?? []).map((arg) => this.#bool(this.#node(arg), node.BoolExpr.boolop ?? ''))
      if (node.BoolExpr.boolop === 'NOT_EXPR' && args[0]) return { kind: 'not', type: 'bool', arg: args[0] }
      return junction(node.BoolExpr.boolop === 'OR_EXPR' ? 'or' : 'and', args)
    }
    if ('A_Expr' in node) return this.#aExpr(node.A_Expr)
    if ('NullTest' in node) {
      const arg = this.#node(required(node.NullTest.arg))
      const operand = arg.kind === 'untyped' ? this.#coerce(arg, 'text') : arg
      return { kind: 'isNull', type: 'bool', negated: node.NullTest.nulltesttype === 'IS_NOT_NULL', arg: operand }
    }
    if ('BooleanTest' in node) {
      const test = BOOLEAN_TESTS[node.BooleanTest.booltesttype ?? '']
      if (!test) throw where(`Boolean test ${node.BooleanTest.booltesttype ?? ''} is not supported ${SUFFIX}`)
      const mismatch = (actual: string) => `argument of ${test} must be type boolean, not type ${actual}`
      const arg = this.#coerce(this.#node(required(node.BooleanTest.arg)), 'bool', mismatch)
      return { kind: 'booleanTest', type: 'bool', test, arg }
    }
    if ('TypeCast' in node) return this.#typeCast(required(node.TypeCast.arg), node.TypeCast.typeName ?? {})
    if ('FuncCall' in node) return this.#funcCall(node.FuncCall)
    if ('CoalesceExpr' in node) return this.#coalesce(node.CoalesceExpr.args ?? [])
    if ('SubLink' in node) throw where('Subqueries are not supported in a shape\'s where clause')
    if ('SQLValueFunction' in node) {
      const name = (node.SQLValueFunction.op ?? '').replace(/^SVFOP_/, '')
      throw where(`Function "${name}" is not allowed ${SUFFIX}`)
    }
    const kind = Object.keys(node)[0] ?? 'unknown'
    throw where(`${NODE_NAMES[kind] ?? `Expressions of kind ${kind}`} are not supported ${SUFFIX}`)
  }

  #constant(constant: Extract<Node, { A_Const: unknown }>['A_Const']): Analyzed {
    if (constant.isnull) return { kind: 'untyped', text: null, param: undefined }
    if (constant.sval) return { kind: 'untyped', text: constant.sval.sval ?? '', param: undefined }
    if (constant.boolval) return { kind: 'constant', type: 'bool', value: constant.boolval.boolval ?? false }
    if (constant.ival) return { kind: 'constant', type: 'int4', value: BigInt(constant.ival.ival ?? 0) }
    if (constant.fval) {
      const text = constant.fval.fval ?? ''
      if (/^-?\d+$/.test(text)) {
        const value = BigInt(text)
        const fitsInt8 = value >= -(2n ** 63n) && value < 2n ** 63n
        if (fitsInt8) return { kind: 'constant', type: 'int8', value }
      }
      const value = parseDecimal(text)
      if (!value) throw where(`Invalid numeric literal ${text}`)
      return { kind: 'constant', type: 'numeric', value }
    }
    if (constant.bsval) throw where(`Bit-string literals are not supported ${SUFFIX}`)
    return { kind: 'constant', type: 'int4', value: 0n }
  }

  #paramRef(number: number): Analyzed {
    const text = this.#params[number - 1]
    if (number < 1 || text === undefined) {
      throw new WhereClauseError('params', [
        `Parameter $${number} is not bound: ${this.#params.length} param${this.#params.length === 1 ? '' : 's'} given`,
      ])
    }
    return { kind: 'untyped', text, param: number }
  }

  #columnRef(fields: readonly Node[]): Analyzed {
    if (fields.some((field) => 'A_Star' in field)) throw where(`"*" is not allowed ${SUFFIX}`)
    const names = stringsOf(fields) ?? []
    const name = names.at(-1) ?? ''
    const qualifier = names.slice(0, -1)
    const table = this.#table
    const qualifierMatches =
      qualifier.length === 0 ||
      (qualifier.length === 1 && qualifier[0] === table.name) ||
      (qualifier.length === 2 && qualifier[0] === table.schema && qualifier[1] === table.name)
    if (!qualifierMatches) {
      throw where(`Column reference "${names.join('.')}" does not refer to table "${table.schema}"."${table.name}"`)
    }
    const column = table.columns.find((candidate) => candidate.name === name)
    if (!column) throw where(`Unknown column "${name}" in where clause`)
    this.#columns.add(column.name)
    const type = column.dims === 0 ? sqlTypeNamed(column.type) : undefined
    if (type === undefined) {
      return {
        kind: 'opaqueColumn',
        name: column.name,
        typeName: `${column.type}${'[]'.repeat(column.dims)}`,
        baseType: column.type,
      }
    }
    return { kind: 'column', type, name: column.name }
  }

  /** Gives an untyped value a type, or converts a typed one implicitly (T2, T3, A4). */
  #coerce(value: Analyzed, type: SqlType, mismatch?: (actual: string) => string): WhereExpr {
    if (value.kind === 'opaqueColumn') {
      throw where(
        `Column "${value.name}" has type ${value.typeName}, which a shape's where clause can only test with ` +
          `IS [NOT] NULL or compare as text (${value.name}::text)`,
      )
    }
    if (value.kind !== 'untyped') {
      if (value.type === type) return value
      if (!isImplicitCast(value.type, type)) {
        const actual = TYPE_LABEL[value.type]
        throw where(mismatch ? mismatch(actual) : `Cannot use ${actual} as ${TYPE_LABEL[type]} ${SUFFIX}`)
      }
      if (value.kind === 'constant') {
        return { kind: 'constant', type, value: value.value === null ? null : castSqlValue(value.type, type, value.value) }
      }
      return { kind: 'cast', type, arg: value }
    }
    if (value.text === null) return { kind: 'constant', type, value: null }
    let parsed
    try {
      parsed = parseSqlValue(type, value.text)
    } catch (error) {
      if (!(error instanceof SqlValueError)) throw error
      if (value.param === undefined) throw where(error.message)
      throw new WhereClauseError('params', [`Invalid value for $${value.param}: ${error.message}`])
    }
    if (value.param === undefined) return { kind: 'constant', type, value: parsed }
    const previous = this.#paramTypes.get(value.param)
    if (previous !== undefined && previous !== type) {
      throw new WhereClauseError('params', [
        `Parameter $${value.param} is used both as ${TYPE_LABEL[previous]} and as ${TYPE_LABEL[type]}; cast it explicitly`,
      ])
    }
    this.#paramTypes.set(value.param, type)
    return { kind: 'param', type, number: value.param, value: parsed }
  }

  #bool(value: Analyzed, context: string): WhereExpr {
    const operator = context.replace(/_EXPR$/, '')
    return this.#coerce(value, 'bool', (actual) => `argument of ${operator} must be type boolean, not type ${actual}`)
  }

  /** Both operands at their common type (T3), or Postgres' "operator does not exist". */
  #pair(left: Analyzed, right: Analyzed, operator: string): { left: WhereExpr; right: WhereExpr; type: SqlType } {
    if (left.kind === 'opaqueColumn' || right.kind === 'opaqueColumn') {
      return { left: this.#coerce(left, 'text'), right: this.#coerce(right, 'text'), type: 'text' }
    }
    const type = commonType(left.kind === 'untyped' ? 'unknown' : left.type, right.kind === 'untyped' ? 'unknown' : right.type)
    if (type === undefined || type === 'unknown') throw noOperator(left, operator, right)
    return { left: this.#coerce(left, type), right: this.#coerce(right, type), type }
  }

  #compare(operator: CompareOperator, left: Analyzed, right: Analyzed): WhereExpr {
    const pair = this.#pair(left, right, operator)
    return { kind: 'compare', type: 'bool', operator, left: pair.left, right: pair.right }
  }

  #aExpr(expr: Extract<Node, { A_Expr: unknown }>['A_Expr']): Analyzed {
    const names = stringsOf(expr.name)
    if (names?.length !== 1) throw where(`Schema-qualified operators are not supported ${SUFFIX}`)
    const operator = names[0] ?? ''
    const kind = expr.kind ?? 'AEXPR_OP'
    switch (kind) {
      case 'AEXPR_OP':
        return this.#operator(operator, expr.lexpr, required(expr.rexpr))
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE':
        return this.#like(operator, required(expr.lexpr), required(expr.rexpr))
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT': {
        const pair = this.#pair(this.#node(required(expr.lexpr)), this.#node(required(expr.rexpr)), '=')
        return { kind: 'distinct', type: 'bool', negated: kind === 'AEXPR_NOT_DISTINCT', left: pair.left, right: pair.right }
      }
      case 'AEXPR_IN': {
        const arg = this.#node(required(expr.lexpr))
        const list = listItems(required(expr.rexpr))
        const negated = operator === '<>'
        const comparisons = list.map((item) => this.#compare(negated ? '<>' : '=', arg, this.#node(item)))
        return comparisons.length === 1 && comparisons[0] ? comparisons[0] : junction(negated ? 'and' : 'or', comparisons)
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM':
        return this.#between(kind, required(expr.lexpr), listItems(required(expr.rexpr)))
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL':
        throw where(`${kind === 'AEXPR_OP_ANY' ? 'ANY' : 'ALL'} (array) comparisons are not supported ${SUFFIX}`)
      case 'AEXPR_SIMILAR':
        throw where(`SIMILAR TO is not supported ${SUFFIX}`)
      case 'AEXPR_NULLIF':
        throw where(`NULLIF is not supported ${SUFFIX}`)
      default:
        throw where(`Operator ${kind} is not supported ${SUFFIX}`)
    }
  }

  #operator(operator: string, leftNode: Node | undefined, rightNode: Node): Analyzed {
    const like = LIKE_OPERATORS[operator]
    if (like && leftNode) return this.#like(operator, leftNode, rightNode)
    const right = this.#node(rightNode)
    if (!leftNode) {
      if (operator !== '-' && operator !== '+') throw where(`Prefix operator "${operator}" is not allowed ${SUFFIX}`)
      if (right.kind === 'untyped' || right.kind === 'opaqueColumn' || !isNumber(right.type)) {
        throw noOperator(undefined, operator, right)
      }
      return operator === '+' ? right : { kind: 'negate', type: right.type, arg: right }
    }
    const left = this.#node(leftNode)
    if (COMPARE_OPERATORS.includes(operator)) return this.#compare(operator as CompareOperator, left, right)
    if (ARITHMETIC_OPERATORS.includes(operator)) return this.#arithmetic(operator as ArithmeticOperator, left, right)
    if (operator === '||') return this.#concat(left, right)
    throw where(`Operator "${operator}" is not allowed ${SUFFIX}`)
  }

  #arithmetic(operator: ArithmeticOperator, left: Analyzed, right: Analyzed): WhereExpr {
    const pair = this.#pair(left, right, operator)
    const { type } = pair
    const floatModulo = operator === '%' && (type === 'float4' || type === 'float8')
    if (!isNumber(type) || floatModulo) throw noOperator(left, operator, right)
    return { kind: 'arithmetic', type, operator, left: pair.left, right: pair.right }
  }

  /** `||`: text with text, or text with a value that has an exact text form (Postgres' `anynonarray || text`). */
  #concat(left: Analyzed, right: Analyzed): WhereExpr {
    const asText = (value: Analyzed): WhereExpr => {
      if (isTextual(value)) return this.#coerce(value, 'text')
      if (value.kind === 'untyped' || value.kind === 'opaqueColumn' || !isSupportedCast(value.type, 'text')) {
        throw noOperator(left, '||', right)
      }
      return { kind: 'cast', type: 'text', arg: value }
    }
    if (!isTextual(left) && !isTextual(right)) throw noOperator(left, '||', right)
    return { kind: 'concat', type: 'text', left: asText(left), right: asText(right) }
  }

  #like(operator: string, argNode: Node, patternNode: Node): WhereExpr {
    const { negated, caseInsensitive } = LIKE_OPERATORS[operator] ?? { negated: false, caseInsensitive: false }
    if ('FuncCall' in patternNode && builtinName(patternNode.FuncCall.funcname) === 'like_escape') {
      throw where(`LIKE … ESCAPE is not supported ${SUFFIX} (use the default backslash escape)`)
    }
    const arg = this.#node(argNode)
    const pattern = this.#node(patternNode)
    if (!isTextual(arg) || !isTextual(pattern)) throw noOperator(arg, operator, pattern)
    if (arg.kind !== 'untyped' && arg.kind !== 'opaqueColumn' && arg.type === 'bpchar') {
      throw where(`LIKE on character(n) values is not supported ${SUFFIX} (cast the column to text)`)
    }
    const typedPattern = this.#coerce(pattern, 'text')
    if (typedPattern.kind === 'constant' || typedPattern.kind === 'param') {
      try {
        if (typedPattern.value !== null) compileLikePattern(typedPattern.value as string)
      } catch (error) {
        if (!(error instanceof SqlValueError)) throw error
        if (typedPattern.kind === 'param') {
          throw new WhereClauseError('params', [`Invalid value for $${typedPattern.number}: ${error.message}`])
        }
        throw where(error.message)
      }
    }
    return { kind: 'like', type: 'bool', negated, caseInsensitive, arg: this.#coerce(arg, 'text'), pattern: typedPattern }
  }

  #between(kind: string, argNode: Node, bounds: readonly Node[]): WhereExpr {
    const [lowNode, highNode] = bounds
    if (!lowNode || !highNode) throw where('BETWEEN needs two bounds')
    const arg = this.#node(argNode)
    const low = this.#node(lowNode)
    const high = this.#node(highNode)
    const negated = kind === 'AEXPR_NOT_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN_SYM'
    const range = (from: Analyzed, to: Analyzed): WhereExpr =>
      negated
        ? { kind: 'or', type: 'bool', args: [this.#compare('<', arg, from), this.#compare('>', arg, to)] }
        : { kind: 'and', type: 'bool', args: [this.#compare('>=', arg, from), this.#compare('<=', arg, to)] }
    if (kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN') return range(low, high)
    return { kind: negated ? 'and' : 'or', type: 'bool', args: [range(low, high), range(high, low)] }
  }

  #typeCast(argNode: Node, typeName: { names?: Node[]; typmods?: Node[]; arrayBounds?: Node[] }): WhereExpr {
    const names = stringsOf(typeName.names) ?? []
    const display = names.filter((name) => name !== 'pg_catalog').join('.')
    if (typeName.arrayBounds?.length) throw where(`Cast to array type "${display}[]" is not allowed ${SUFFIX}`)
    const name = builtinName(typeName.names)
    const type = name === undefined ? undefined : castTypeNamed(name)
    if (type === undefined) throw where(`Cast to type "${display}" is not allowed ${SUFFIX}`)
    if (typeName.typmods?.length) throw where(`Casts with a type modifier (${display}(…)) are not supported ${SUFFIX}`)
    const arg = this.#node(argNode)
    if (arg.kind === 'untyped') return this.#coerce(arg, type)
    if (arg.kind === 'opaqueColumn' && type === 'text' && !TEXT_CAST_DIFFERS.includes(arg.baseType)) {
      return { kind: 'columnText', type: 'text', name: arg.name }
    }
    if (arg.kind === 'opaqueColumn' || !isSupportedCast(arg.type, type)) {
      throw where(`Cast from ${typeLabel(arg)} to ${TYPE_LABEL[type]} is not supported ${SUFFIX}`)
    }
    return arg.type === type ? arg : { kind: 'cast', type, arg }
  }

  #funcCall(call: Extract<Node, { FuncCall: unknown }>['FuncCall']): WhereExpr {
    const names = stringsOf(call.funcname) ?? []
    const displayName = names.join('.')
    const name = builtinName(call.funcname)
    const fn = name === undefined || !Object.hasOwn(FUNCTIONS, name) ? undefined : FUNCTIONS[name]
    if (fn === undefined) throw where(`Function "${displayName}" is not allowed ${SUFFIX}`)
    if (call.agg_star || call.agg_distinct || call.agg_order || call.agg_filter || call.over || call.func_variadic) {
      throw where(`Aggregate, window and variadic calls are not allowed ${SUFFIX}`)
    }
    const args = call.args ?? []
    const [argNode] = args
    if (args.length !== 1 || !argNode) throw where(`Function "${displayName}" takes exactly one argument`)
    const arg = this.#node(argNode)
    const signature = () => where(`function ${displayName}(${typeLabel(arg)}) does not exist`)
    if (fn === 'abs') {
      if (arg.kind === 'untyped' || arg.kind === 'opaqueColumn' || !isNumber(arg.type)) throw signature()
      return { kind: 'function', type: arg.type, name: fn, arg }
    }
    if (arg.kind === 'opaqueColumn' || (arg.kind !== 'untyped' && !isString(arg.type))) throw signature()
    const typed = this.#coerce(arg, 'text')
    return { kind: 'function', type: fn === 'char_length' ? 'int4' : 'text', name: fn, arg: typed }
  }

  #coalesce(argNodes: readonly Node[]): WhereExpr {
    const args = argNodes.map((node) => this.#node(node))
    let type: ExprType = 'unknown'
    for (const arg of args) {
      if (arg.kind === 'opaqueColumn') this.#coerce(arg, 'text')
      const next: ExprType | undefined =
        arg.kind === 'untyped' || arg.kind === 'opaqueColumn' ? type : commonType(type, arg.type)
      if (next === undefined) throw where(`COALESCE types ${type} and ${typeLabel(arg)} cannot be matched`)
      type = next
    }
    const resolved: SqlType = type === 'unknown' ? 'text' : type
    return { kind: 'coalesce', type: resolved, args: args.map((arg) => this.#coerce(arg, resolved)) }
  }
}

/** AND/OR with nested ones of the same kind flattened, as the parser does, so rendering is idempotent. */
function junction(kind: 'and' | 'or', args: readonly WhereExpr[]): WhereExpr {
  return { kind, type: 'bool', args: args.flatMap((arg) => (arg.kind === kind ? arg.args : [arg])) }
}

function required(node: Node | undefined): Node {
  if (!node) throw where('Invalid where clause: incomplete expression')
  return node
}

function listItems(node: Node): readonly Node[] {
  if ('List' in node) return node.List.items ?? []
  throw where(`IN and BETWEEN need a parenthesized list ${SUFFIX}`)
}

/** Validates and types a where clause's parse tree (A1–A5); throws `WhereClauseError` with a precise message. */
export function analyzeWhere(tree: Node, table: TableDescription, params: readonly string[]): WhereAnalysis {
  try {
    return new WhereAnalyzer(table, params).analyze(tree)
  } catch (error) {
    if (isEvaluationError(error)) throw where(error.message)
    throw error
  }
}
