/**
 * Validates a where clause's parse tree against the allow-list (`whereAllowList.ts`) and the table, and types it
 * (parse tree → WhereExpr). Operator expressions are typed by `analyzeOperatorExpr.ts` through this analyzer's
 * `OperandScope`.
 *
 * Rules:
 * - Only what `whereAllowList.ts` lists is accepted; every other node, operator, function or cast is refused
 *   by name with a `WhereClauseError`.
 * - Columns are the table's own, unqualified or qualified by the table (and schema) name; quoted names keep
 *   their case (the parser already folded unquoted ones).
 * - `$n` must be bound (1 ≤ n ≤ params.length) and is typed by context like an untyped literal; a value that
 *   does not parse as that type, or a `$n` used at two different types, is a `params` error at compile time.
 * - The clause's type must be boolean.
 */
import type { Node } from 'libpg-query'
import type { TableDescription } from '../sources/source'
import { analyzeOperatorExpr } from './analyzeOperatorExpr'
import { IN_SHAPE_WHERE, junction, typeLabel, whereError, type Analyzed, type OperandScope } from './analyzedValue'
import { parseDecimal } from './decimal'
import { builtinName, required, stringsOf } from './parseTreeNodes'
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
import { BOOLEAN_TESTS, FUNCTIONS, MAX_DEPTH, NODE_NAMES, TEXT_CAST_DIFFERS } from './whereAllowList'
import { WhereClauseError } from './whereClauseError'
import type { WhereExpr } from './whereExpr'

/** The result of analysis: the typed tree plus what it reads. */
interface WhereAnalysis {
  readonly expr: WhereExpr
  /** Column names read, in table order. */
  readonly columns: readonly string[]
  /** `$n` numbers used, ascending. */
  readonly paramNumbers: readonly number[]
}

class WhereAnalyzer implements OperandScope {
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
    const analyzed = this.node(root)
    const typed = this.coerce(analyzed, 'bool', (actual) => `argument of WHERE must be type boolean, not type ${actual}`)
    return {
      expr: typed,
      columns: this.#table.columns.map((column) => column.name).filter((name) => this.#columns.has(name)),
      paramNumbers: [...this.#paramTypes.keys()].sort((a, b) => a - b),
    }
  }

  node(node: Node): Analyzed {
    if (++this.#depth > MAX_DEPTH) throw whereError(`The where clause is nested too deeply (more than ${MAX_DEPTH} levels)`)
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
      const args = (node.BoolExpr.args ?? []).map((arg) => this.#bool(this.node(arg), node.BoolExpr.boolop ?? ''))
      if (node.BoolExpr.boolop === 'NOT_EXPR' && args[0]) return { kind: 'not', type: 'bool', arg: args[0] }
      return junction(node.BoolExpr.boolop === 'OR_EXPR' ? 'or' : 'and', args)
    }
    if ('A_Expr' in node) return analyzeOperatorExpr(this, node.A_Expr)
    if ('NullTest' in node) {
      const arg = this.node(required(node.NullTest.arg))
      const operand = arg.kind === 'untyped' ? this.coerce(arg, 'text') : arg
      return { kind: 'isNull', type: 'bool', negated: node.NullTest.nulltesttype === 'IS_NOT_NULL', arg: operand }
    }
    if ('BooleanTest' in node) {
      const test = BOOLEAN_TESTS[node.BooleanTest.booltesttype ?? '']
      if (!test) throw whereError(`Boolean test ${node.BooleanTest.booltesttype ?? ''} is not supported ${IN_SHAPE_WHERE}`)
      const mismatch = (actual: string) => `argument of ${test} must be type boolean, not type ${actual}`
      const arg = this.coerce(this.node(required(node.BooleanTest.arg)), 'bool', mismatch)
      return { kind: 'booleanTest', type: 'bool', test, arg }
    }
    if ('TypeCast' in node) return this.#typeCast(required(node.TypeCast.arg), node.TypeCast.typeName ?? {})
    if ('FuncCall' in node) return this.#funcCall(node.FuncCall)
    if ('CoalesceExpr' in node) return this.#coalesce(node.CoalesceExpr.args ?? [])
    if ('SubLink' in node) throw whereError('Subqueries are not supported in a shape\'s where clause')
    if ('SQLValueFunction' in node) {
      const name = (node.SQLValueFunction.op ?? '').replace(/^SVFOP_/, '')
      throw whereError(`Function "${name}" is not allowed ${IN_SHAPE_WHERE}`)
    }
    const kind = Object.keys(node)[0] ?? 'unknown'
    throw whereError(`${NODE_NAMES[kind] ?? `Expressions of kind ${kind}`} are not supported ${IN_SHAPE_WHERE}`)
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
      if (!value) throw whereError(`Invalid numeric literal ${text}`)
      return { kind: 'constant', type: 'numeric', value }
    }
    if (constant.bsval) throw whereError(`Bit-string literals are not supported ${IN_SHAPE_WHERE}`)
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
    if (fields.some((field) => 'A_Star' in field)) throw whereError(`"*" is not allowed ${IN_SHAPE_WHERE}`)
    const names = stringsOf(fields) ?? []
    const name = names.at(-1) ?? ''
    const qualifier = names.slice(0, -1)
    const table = this.#table
    const qualifierMatches =
      qualifier.length === 0 ||
      (qualifier.length === 1 && qualifier[0] === table.name) ||
      (qualifier.length === 2 && qualifier[0] === table.schema && qualifier[1] === table.name)
    if (!qualifierMatches) {
      throw whereError(`Column reference "${names.join('.')}" does not refer to table "${table.schema}"."${table.name}"`)
    }
    const column = table.columns.find((candidate) => candidate.name === name)
    if (!column) throw whereError(`Unknown column "${name}" in where clause`)
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

  /** Gives an untyped value a type, or converts a typed one implicitly. */
  coerce(value: Analyzed, type: SqlType, mismatch?: (actual: string) => string): WhereExpr {
    if (value.kind === 'opaqueColumn') {
      throw whereError(
        `Column "${value.name}" has type ${value.typeName}, which a shape's where clause can only test with ` +
          `IS [NOT] NULL or compare as text (${value.name}::text)`,
      )
    }
    if (value.kind !== 'untyped') {
      if (value.type === type) return value
      if (!isImplicitCast(value.type, type)) {
        const actual = TYPE_LABEL[value.type]
        throw whereError(mismatch ? mismatch(actual) : `Cannot use ${actual} as ${TYPE_LABEL[type]} ${IN_SHAPE_WHERE}`)
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
      if (value.param === undefined) throw whereError(error.message)
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
    return this.coerce(value, 'bool', (actual) => `argument of ${operator} must be type boolean, not type ${actual}`)
  }


  #typeCast(argNode: Node, typeName: { names?: Node[]; typmods?: Node[]; arrayBounds?: Node[] }): WhereExpr {
    const names = stringsOf(typeName.names) ?? []
    const display = names.filter((name) => name !== 'pg_catalog').join('.')
    if (typeName.arrayBounds?.length) throw whereError(`Cast to array type "${display}[]" is not allowed ${IN_SHAPE_WHERE}`)
    const name = builtinName(typeName.names)
    const type = name === undefined ? undefined : castTypeNamed(name)
    if (type === undefined) throw whereError(`Cast to type "${display}" is not allowed ${IN_SHAPE_WHERE}`)
    if (typeName.typmods?.length) throw whereError(`Casts with a type modifier (${display}(…)) are not supported ${IN_SHAPE_WHERE}`)
    const arg = this.node(argNode)
    if (arg.kind === 'untyped') return this.coerce(arg, type)
    if (arg.kind === 'opaqueColumn' && type === 'text' && !TEXT_CAST_DIFFERS.includes(arg.baseType)) {
      return { kind: 'columnText', type: 'text', name: arg.name }
    }
    if (arg.kind === 'opaqueColumn' || !isSupportedCast(arg.type, type)) {
      throw whereError(`Cast from ${typeLabel(arg)} to ${TYPE_LABEL[type]} is not supported ${IN_SHAPE_WHERE}`)
    }
    return arg.type === type ? arg : { kind: 'cast', type, arg }
  }

  #funcCall(call: Extract<Node, { FuncCall: unknown }>['FuncCall']): WhereExpr {
    const names = stringsOf(call.funcname) ?? []
    const displayName = names.join('.')
    const name = builtinName(call.funcname)
    const fn = name === undefined || !Object.hasOwn(FUNCTIONS, name) ? undefined : FUNCTIONS[name]
    if (fn === undefined) throw whereError(`Function "${displayName}" is not allowed ${IN_SHAPE_WHERE}`)
    if (call.agg_star || call.agg_distinct || call.agg_order || call.agg_filter || call.over || call.func_variadic) {
      throw whereError(`Aggregate, window and variadic calls are not allowed ${IN_SHAPE_WHERE}`)
    }
    const args = call.args ?? []
    const [argNode] = args
    if (args.length !== 1 || !argNode) throw whereError(`Function "${displayName}" takes exactly one argument`)
    const arg = this.node(argNode)
    const signature = () => whereError(`function ${displayName}(${typeLabel(arg)}) does not exist`)
    if (fn === 'abs') {
      if (arg.kind === 'untyped' || arg.kind === 'opaqueColumn' || !isNumber(arg.type)) throw signature()
      return { kind: 'function', type: arg.type, name: fn, arg }
    }
    if (arg.kind === 'opaqueColumn' || (arg.kind !== 'untyped' && !isString(arg.type))) throw signature()
    const typed = this.coerce(arg, 'text')
    return { kind: 'function', type: fn === 'char_length' ? 'int4' : 'text', name: fn, arg: typed }
  }

  #coalesce(argNodes: readonly Node[]): WhereExpr {
    const args = argNodes.map((node) => this.node(node))
    let type: ExprType = 'unknown'
    for (const arg of args) {
      if (arg.kind === 'opaqueColumn') this.coerce(arg, 'text')
      const next: ExprType | undefined =
        arg.kind === 'untyped' || arg.kind === 'opaqueColumn' ? type : commonType(type, arg.type)
      if (next === undefined) throw whereError(`COALESCE types ${type} and ${typeLabel(arg)} cannot be matched`)
      type = next
    }
    const resolved: SqlType = type === 'unknown' ? 'text' : type
    return { kind: 'coalesce', type: resolved, args: args.map((arg) => this.coerce(arg, resolved)) }
  }
}

/** Validates and types a where clause's parse tree; throws `WhereClauseError` with a precise message. */
export function analyzeWhere(tree: Node, table: TableDescription, params: readonly string[]): WhereAnalysis {
  try {
    return new WhereAnalyzer(table, params).analyze(tree)
  } catch (error) {
    if (isEvaluationError(error)) throw whereError(error.message)
    throw error
  }
}
