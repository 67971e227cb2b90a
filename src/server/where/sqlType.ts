/**
 * The Postgres types a shape's where clause can evaluate, and how operands of different types meet.
 *
 * Rules:
 * - Every supported column type maps to one `SqlType`; `varchar`/`text` are `text`, `character(n)` is
 *   `bpchar` (trailing spaces are insignificant, as in Postgres). A column of any other type may only be tested
 *   with `IS [NOT] NULL`: anything else is refused at compile time rather than evaluated wrongly.
 * - An untyped literal or `$n` takes the type of the operand it meets, like Postgres' `unknown` literals.
 * - Operands of two known types meet at the type Postgres' implicit casts would pick (integers widen, then
 *   `numeric`, then `float8`; `date` < `timestamp` < `timestamptz`; `bpchar` + `text` → `text`); any other pair
 *   is refused with Postgres' own wording (`operator does not exist: int4 = text`).
 */

/** A type the evaluator implements. */
export type SqlType =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'bpchar'
  | 'uuid'
  | 'date'
  | 'timestamp'
  | 'timestamptz'

/** A type during analysis: `unknown` is an untyped literal, parameter or NULL not yet placed. */
export type ExprType = SqlType | 'unknown'

const TYPE_NAMES: Readonly<Record<string, SqlType>> = {
  bool: 'bool',
  boolean: 'bool',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  numeric: 'numeric',
  decimal: 'numeric',
  text: 'text',
  varchar: 'text',
  'character varying': 'text',
  bpchar: 'bpchar',
  character: 'bpchar',
  uuid: 'uuid',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
}

/** The supported type a column's Postgres type name denotes, or undefined. */
export function sqlTypeNamed(name: string): SqlType | undefined {
  return Object.hasOwn(TYPE_NAMES, name) ? TYPE_NAMES[name] : undefined
}

const CAST_TYPES: readonly string[] = [
  'bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar', 'uuid', 'date',
  'timestamp', 'timestamptz',
]

/** The supported type a cast target names; the parser already turned `integer`, `boolean`… into these names. */
export function castTypeNamed(name: string): SqlType | undefined {
  return CAST_TYPES.includes(name) ? sqlTypeNamed(name) : undefined
}

export function isInteger(type: ExprType): type is 'int2' | 'int4' | 'int8' {
  return type === 'int2' || type === 'int4' || type === 'int8'
}

export function isFloat(type: ExprType): type is 'float4' | 'float8' {
  return type === 'float4' || type === 'float8'
}

export function isNumber(type: ExprType): boolean {
  return isInteger(type) || isFloat(type) || type === 'numeric'
}

export function isString(type: ExprType): type is 'text' | 'bpchar' {
  return type === 'text' || type === 'bpchar'
}

function isDateTime(type: ExprType): type is 'date' | 'timestamp' | 'timestamptz' {
  return type === 'date' || type === 'timestamp' || type === 'timestamptz'
}

const NUMBER_RANK: Readonly<Record<string, number>> = { int2: 1, int4: 2, int8: 3, numeric: 4, float4: 5, float8: 6 }
const DATETIME_RANK: Readonly<Record<string, number>> = { date: 1, timestamp: 2, timestamptz: 3 }

/** Whether Postgres converts `from` to `to` implicitly (the casts the common type relies on). */
export function isImplicitCast(from: SqlType, to: SqlType): boolean {
  if (from === to) return true
  if (isNumber(from) && isNumber(to)) return (NUMBER_RANK[from] ?? 0) < (NUMBER_RANK[to] ?? 0)
  if (isDateTime(from) && isDateTime(to)) return (DATETIME_RANK[from] ?? 0) < (DATETIME_RANK[to] ?? 0)
  return from === 'bpchar' && to === 'text'
}

/**
 * The type two operands are compared (or combined) at; undefined when Postgres has no such operator.
 * `arithmetic` keeps `float4 op float4` in single precision; comparisons of a `float4` with anything else
 * happen in double precision, as Postgres' cross-type float operators do.
 */
export function commonType(a: ExprType, b: ExprType): ExprType | undefined {
  if (a === 'unknown') return b === 'unknown' ? 'text' : b
  if (b === 'unknown' || a === b) return a
  if (isNumber(a) && isNumber(b)) {
    if (isFloat(a) || isFloat(b)) return 'float8'
    return (NUMBER_RANK[a] ?? 0) > (NUMBER_RANK[b] ?? 0) ? a : b
  }
  if (isDateTime(a) && isDateTime(b)) return (DATETIME_RANK[a] ?? 0) > (DATETIME_RANK[b] ?? 0) ? a : b
  if (isString(a) && isString(b)) return 'text'
  return undefined
}

/** Whether an explicit `::type` cast between two supported types can be evaluated exactly. */
export function isSupportedCast(from: ExprType, to: SqlType): boolean {
  if (from === 'unknown' || from === to || isImplicitCast(from as SqlType, to)) return true
  if (isString(from)) return to !== 'bpchar'
  if (isString(to)) {
    return to === 'text' && (isInteger(from) || from === 'numeric' || from === 'bool' || from === 'uuid' || from === 'date')
  }
  if (isInteger(to) || to === 'float4') return isNumber(from)
  if (to === 'date') return from === 'timestamp' || from === 'timestamptz'
  if (to === 'timestamp') return from === 'timestamptz'
  return false
}
