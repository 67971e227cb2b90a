/**
 * The values `analyzeWhere` passes between its parts before a node has its final type, and how refusals name them.
 *
 * Rules:
 * - A value is a typed expression, an `Untyped` literal or `$n` that takes its type from its context (sqlType.ts,
 *   like Postgres' `unknown` literals), or an `OpaqueColumn` whose type the evaluator does not model.
 * - Refusals name types with Postgres' own labels (`unknown` for untyped values), so messages read like the
 *   errors Postgres would give for the same clause.
 */
import type { Node } from 'libpg-query'
import { isString, type SqlType } from './sqlType'
import { TYPE_LABEL } from './sqlValue'
import { WhereClauseError } from './whereClauseError'
import type { OpaqueColumn, WhereExpr } from './whereExpr'

/** An untyped literal or `$n` awaiting a type from its context. */
interface Untyped {
  readonly kind: 'untyped'
  readonly text: string | null
  readonly param: number | undefined
}

/** A node as analysed, before its context types it. */
export type Analyzed = WhereExpr | Untyped | OpaqueColumn

/** What the parts of analysis share: analysing a child node, and typing a value as its context requires. */
export interface OperandScope {
  node(node: Node): Analyzed
  /** Gives an untyped value a type or converts a typed one implicitly; refuses anything else (`mismatch` words it). */
  coerce(value: Analyzed, type: SqlType, mismatch?: (actual: string) => string): WhereExpr
}

/** The tail of "… is not allowed / supported" refusals. */
export const IN_SHAPE_WHERE = "in a shape's where clause"

/** A refusal of the `where` field. */
export function whereError(message: string): WhereClauseError {
  return new WhereClauseError('where', [message])
}

/** Postgres' label of a value's type. */
export function typeLabel(value: Analyzed): string {
  if (value.kind === 'untyped') return 'unknown'
  if (value.kind === 'opaqueColumn') return value.typeName
  return TYPE_LABEL[value.type]
}

/** Postgres' "operator does not exist" for `left operator right`, or for a prefix operator without `left`. */
export function noOperator(left: Analyzed | undefined, operator: string, right: Analyzed): WhereClauseError {
  return whereError(`operator does not exist: ${left === undefined ? '' : `${typeLabel(left)} `}${operator} ${typeLabel(right)}`)
}

/** A value `LIKE` and `||` take as text: an untyped literal or `$n`, or a string-typed expression. */
export function isTextual(value: Analyzed): boolean {
  return value.kind === 'untyped' || (value.kind !== 'opaqueColumn' && isString(value.type))
}

/** AND/OR with nested ones of the same kind flattened, as the parser does, so rendering is idempotent. */
export function junction(kind: 'and' | 'or', args: readonly WhereExpr[]): WhereExpr {
  return { kind, type: 'bool', args: args.flatMap((arg) => (arg.kind === kind ? arg.args : [arg])) }
}
