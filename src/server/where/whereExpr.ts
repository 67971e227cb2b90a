/**
 * The validated, fully typed form of a shape's where clause: what `analyzeWhere` produces from the parse tree and
 * what `renderWhere` and `evaluateWhere` consume. Nothing reaches SQL or evaluation without passing through it.
 *
 * Rules:
 * - Every node has a supported `type`; no node is untyped (`unknown` literals are resolved during analysis).
 * - Operands of a comparison or arithmetic node already have the operation's type (implicit conversions are
 *   explicit `cast` nodes), so renderer and evaluator agree on the types without re-deriving them.
 * - `IN`, `BETWEEN` and `BETWEEN SYMMETRIC` are rewritten into the comparisons Postgres defines them as.
 */
import type { SqlType } from './sqlType'
import type { SqlValue } from './sqlValue'

export type CompareOperator = '=' | '<>' | '<' | '<=' | '>' | '>='
export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%'
export type BooleanTestKind = 'IS TRUE' | 'IS NOT TRUE' | 'IS FALSE' | 'IS NOT FALSE' | 'IS UNKNOWN' | 'IS NOT UNKNOWN'
export type WhereFunction = 'lower' | 'upper' | 'char_length' | 'abs'

export type WhereExpr =
  | { readonly kind: 'column'; readonly type: SqlType; readonly name: string }
  /** `col::text` of a column whose type is otherwise opaque (an enum, jsonb, an array…): its wire text. */
  | { readonly kind: 'columnText'; readonly type: 'text'; readonly name: string }
  | { readonly kind: 'constant'; readonly type: SqlType; readonly value: SqlValue | null }
  /** `$number` in the user's text; its value is already parsed as `type`. */
  | { readonly kind: 'param'; readonly type: SqlType; readonly number: number; readonly value: SqlValue }
  | { readonly kind: 'and' | 'or'; readonly type: 'bool'; readonly args: readonly WhereExpr[] }
  | { readonly kind: 'not'; readonly type: 'bool'; readonly arg: WhereExpr }
  | {
      readonly kind: 'compare'
      readonly type: 'bool'
      readonly operator: CompareOperator
      readonly left: WhereExpr
      readonly right: WhereExpr
    }
  | {
      readonly kind: 'distinct'
      readonly type: 'bool'
      readonly negated: boolean
      readonly left: WhereExpr
      readonly right: WhereExpr
    }
  | {
      readonly kind: 'arithmetic'
      readonly type: SqlType
      readonly operator: ArithmeticOperator
      readonly left: WhereExpr
      readonly right: WhereExpr
    }
  | { readonly kind: 'negate'; readonly type: SqlType; readonly arg: WhereExpr }
  | { readonly kind: 'concat'; readonly type: 'text'; readonly left: WhereExpr; readonly right: WhereExpr }
  | {
      readonly kind: 'like'
      readonly type: 'bool'
      readonly negated: boolean
      readonly caseInsensitive: boolean
      readonly arg: WhereExpr
      readonly pattern: WhereExpr
    }
  | { readonly kind: 'isNull'; readonly type: 'bool'; readonly negated: boolean; readonly arg: WhereExpr | OpaqueColumn }
  | { readonly kind: 'booleanTest'; readonly type: 'bool'; readonly test: BooleanTestKind; readonly arg: WhereExpr }
  | { readonly kind: 'function'; readonly type: SqlType; readonly name: WhereFunction; readonly arg: WhereExpr }
  | { readonly kind: 'coalesce'; readonly type: SqlType; readonly args: readonly WhereExpr[] }
  | { readonly kind: 'cast'; readonly type: SqlType; readonly arg: WhereExpr }

/** A column of a type the evaluator does not implement: only `IS [NOT] NULL` may read it. */
export interface OpaqueColumn {
  readonly kind: 'opaqueColumn'
  readonly name: string
  readonly typeName: string
  /** The element type for arrays. */
  readonly baseType: string
}
