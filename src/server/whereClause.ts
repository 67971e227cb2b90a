/**
 * Compiles a shape's `where` (and its `$n` params) for the dev server: validated SQL to embed in the snapshot
 * query, and an evaluator for live changes that agrees with Postgres.
 *
 * Rules:
 * - The clause is parsed by the real PostgreSQL parser (libpg-query), once per shape (`where/parseWhereTree`).
 * - The tree is validated against an allow-list and the table and fully typed (`where/analyzeWhere`); anything
 *   not on the list is refused with a `WhereClauseError` naming it — never passed through.
 * - `sql` is rendered from the typed tree (`where/renderWhere`), never from the user's text; params stay bound.
 * - `params` holds only the values the clause uses, renumbered `$1..$n` in order of their original numbers, so
 *   Postgres never sees an unused (untypable) parameter. With `paramOffset` k the placeholders are `$k+1..$k+n`,
 *   so the clause can follow another clause's k params in one query (a subset's where after its shape's).
 * - `matches` follows Postgres semantics on wire text (`where/evaluateWhere`) over the clause as Postgres plans
 *   it (`where/foldConstants`: `$n` values and constants folded; a constant part that raises is refused here); a
 *   row on which evaluation raises (overflow, division by zero, bad cast) matches nothing, as Postgres would have
 *   failed the query.
 * - The clause and params are held to `limits` (where/whereLimits.ts, default `DEFAULT_WHERE_LIMITS`):
 *   the text limits before parsing, the list limit right after, and a text constant folding builds to their sum;
 *   `'none'` is only for SQL the server rendered itself.
 * - `matchesOrThrow` raises that same case as a `DataException` (sources/dataException.ts) instead, so a
 *   snapshot over rows in memory fails where Postgres's would.
 */
import type { WireRow } from '../core/protocol'
import { DataException } from './sources/dataException'
import type { TableDescription } from './sources/source'
import { analyzeWhere } from './where/analyzeWhere'
import { evaluateWhere } from './where/evaluateWhere'
import { foldConstants } from './where/foldConstants'
import { parseWhereTree } from './where/parseWhereTree'
import { renderWhere } from './where/renderWhere'
import { isEvaluationError } from './where/sqlValue'
import { WhereClauseError } from './where/whereClauseError'
import { checkWhereLists, checkWhereText, DEFAULT_WHERE_LIMITS, type WhereLimits } from './where/whereLimits'

export { WhereClauseError, type WhereClauseErrorField } from './where/whereClauseError'

/** A validated where clause, ready for the snapshot query and for filtering live changes. */
export interface CompiledWhere {
  /** Normalized SQL boolean expression over the table's (quoted) columns, with $1..$n placeholders only;
   *  safe to embed as `SELECT … FROM t WHERE (${sql})` with `params` bound positionally. */
  readonly sql: string
  /** $1..$n values (index 0 is $1), as strings; bound, never spliced. */
  readonly params: readonly string[]
  /** Evaluates the clause on a wire row (Postgres text values or null) with SQL semantics (NULL → not matching). */
  matches(row: WireRow): boolean
  /**
   * As `matches`, but a row on which Postgres would have failed the query throws a `DataException`, for
   * sources that must fail a snapshot as Postgres does.
   */
  matchesOrThrow(row: WireRow): boolean
  /** Columns the clause reads. */
  readonly columns: readonly string[]
}

/**
 * Parses, validates and compiles a shape's `where` against its table.
 *
 * @throws WhereClauseError when the clause or its params are refused (`field` says which).
 * @example
 * const where = await compileWhere({ where: 'status = $1 AND price > 10', params: ['open'], table })
 * await source.snapshot({ table, where: where.sql, params: where.params })
 * if (where.matches(change.row)) log.append(change)
 */
export async function compileWhere(input: {
  where: string
  params: readonly string[]
  table: TableDescription
  /** Placeholders start at `$paramOffset + 1`; default 0. */
  paramOffset?: number
  /** Size limits; default `DEFAULT_WHERE_LIMITS`. */
  limits?: WhereLimits | 'none'
}): Promise<CompiledWhere> {
  const limits = input.limits ?? DEFAULT_WHERE_LIMITS
  const missing = Array.from(input.params, (value, index) => (typeof value === 'string' ? undefined : index + 1)).filter(
    (number) => number !== undefined,
  )
  if (missing.length > 0) {
    throw new WhereClauseError('params', missing.map((number) => `Parameter $${number} must be a string`))
  }
  const withNul = input.params.flatMap((value, index) => (value.includes('\u0000') ? [index + 1] : []))
  if (withNul.length > 0) {
    throw new WhereClauseError('params', withNul.map((number) => `Parameter $${number} contains a NUL character`))
  }
  if (limits !== 'none') checkWhereText(input, limits)
  const tree = await parseWhereTree(input.where)
  if (limits !== 'none') checkWhereLists(tree, limits)
  const analysis = analyzeWhere(tree, input.table, input.params)
  const positions = new Map(analysis.paramNumbers.map((number, index) => [number, index + 1]))
  const offset = input.paramOffset ?? 0
  const sql = renderWhere(analysis.expr, (number) => (positions.get(number) ?? number) + offset)
  const evaluate = evaluateWhere(foldConstants(analysis.expr, limits === 'none' ? undefined : limits.maxWhereChars + limits.maxParamsChars))
  return {
    sql,
    params: analysis.paramNumbers.map((number) => input.params[number - 1] ?? ''),
    columns: analysis.columns,
    matches(row) {
      try {
        return evaluate(row) === true
      } catch (error) {
        if (isEvaluationError(error)) return false
        throw error
      }
    },
    matchesOrThrow(row) {
      try {
        return evaluate(row) === true
      } catch (error) {
        if (isEvaluationError(error)) throw new DataException(error.message)
        throw error
      }
    },
  }
}
