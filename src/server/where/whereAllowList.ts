/**
 * What a shape's where clause may contain. Anything not listed here is refused by `analyzeWhere`.
 *
 * Rules:
 * - Allowed: AND/OR/NOT; `= <> != < <= > >=`; `IS [NOT] DISTINCT FROM`; `+ - * / %` and
 *   unary `-`/`+`; `||`; `[NOT] LIKE`/`ILIKE` and their `~~ !~~ ~~* !~~*` operator forms (default `\` escape);
 *   `IS [NOT] NULL`; `IS [NOT] TRUE/FALSE/UNKNOWN`; `[NOT] IN (list)`; `[NOT] BETWEEN [SYMMETRIC]`; casts to the
 *   supported types without a modifier (see `sqlType.ts`) and `col::text` of other column types except those in
 *   `TEXT_CAST_DIFFERS`; string, number, boolean and NULL literals; `$n`; `FUNCTIONS`; `COALESCE`.
 * - Functions are immutable ones only: a shape's membership must not change unless its rows do, so `now()`,
 *   `random()`, `CURRENT_DATE`… are refused, and so is anything with effects (`pg_sleep`, `set_config`).
 * - Nesting is capped (`MAX_DEPTH`) so hostile input cannot exhaust the stack.
 */
import type { BooleanTestKind, WhereFunction } from './whereExpr'

/** Keeps recursion (here and in rendering/evaluation) far from the JavaScript stack limit. */
export const MAX_DEPTH = 256
export const COMPARE_OPERATORS: readonly string[] = ['=', '<>', '<', '<=', '>', '>=']
export const ARITHMETIC_OPERATORS: readonly string[] = ['+', '-', '*', '/', '%']
export const LIKE_OPERATORS: Readonly<Record<string, { negated: boolean; caseInsensitive: boolean }>> = {
  '~~': { negated: false, caseInsensitive: false },
  '!~~': { negated: true, caseInsensitive: false },
  '~~*': { negated: false, caseInsensitive: true },
  '!~~*': { negated: true, caseInsensitive: true },
}
export const FUNCTIONS: Readonly<Record<string, WhereFunction>> = {
  lower: 'lower',
  upper: 'upper',
  length: 'char_length',
  char_length: 'char_length',
  character_length: 'char_length',
  abs: 'abs',
}
export const NODE_NAMES: Readonly<Record<string, string>> = {
  CaseExpr: 'CASE expressions',
  A_ArrayExpr: 'Array constructors',
  RowExpr: 'Row constructors',
  A_Indirection: 'Subscripts and field selections',
  CollateClause: 'COLLATE clauses',
  MinMaxExpr: 'GREATEST/LEAST',
  GroupingFunc: 'GROUPING',
  XmlExpr: 'XML expressions',
  NullIfExpr: 'NULLIF',
}

/**
 * Types whose `::text` is not their output text (or depends on session settings the wire does not pin), so
 * `col::text` could disagree with the wire value; every other opaque type casts to text through its output
 * function, which is what the wire carries.
 */
export const TEXT_CAST_DIFFERS: readonly string[] = ['inet', 'cidr', 'money', 'interval']

export const BOOLEAN_TESTS: Readonly<Record<string, BooleanTestKind>> = {
  IS_TRUE: 'IS TRUE',
  IS_NOT_TRUE: 'IS NOT TRUE',
  IS_FALSE: 'IS FALSE',
  IS_NOT_FALSE: 'IS NOT FALSE',
  IS_UNKNOWN: 'IS UNKNOWN',
  IS_NOT_UNKNOWN: 'IS NOT UNKNOWN',
}
