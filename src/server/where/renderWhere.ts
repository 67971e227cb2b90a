/**
 * Renders a validated WhereExpr as SQL. The user's text is never spliced: everything is printed from the typed
 * tree, so the SQL can carry nothing the analyzer did not see.
 *
 * Rules:
 * - Identifiers are always double-quoted (`"` doubled); literals are single-quoted (`'` doubled, and written
 *   as `E'…'` with doubled backslashes when they hold one, so `standard_conforming_strings` cannot change them).
 * - Every literal and `$n` carries an explicit `::type`, and every composite is parenthesized: Postgres has
 *   no type inference or precedence left to do, so it evaluates exactly what the evaluator evaluates.
 * - `$n` stays a placeholder, renumbered by `paramIndex` to the compiled params' positions.
 * - `col::text` of an opaque column is rendered as the column's output text, the wire text the evaluator reads.
 */
import { quoteIdentifier } from '../identifiers'
import { outputText } from '../sources/describeTable'
import type { SqlType } from './sqlType'
import { formatSqlValue } from './sqlValue'
import type { OpaqueColumn, WhereExpr } from './whereExpr'

/** A string literal that means `text` whatever `standard_conforming_strings` is. */
function quoteLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''")
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`
}

function castSuffix(type: SqlType): string {
  return `::${type}`
}

/** SQL for a validated expression; `paramIndex` maps a user `$n` to its compiled position. */
export function renderWhere(expr: WhereExpr | OpaqueColumn, paramIndex: (number: number) => number): string {
  const render = (node: WhereExpr | OpaqueColumn): string => renderWhere(node, paramIndex)
  switch (expr.kind) {
    case 'column':
    case 'opaqueColumn':
      return quoteIdentifier(expr.name)
    case 'columnText':
      // The wire text the evaluator compares, not `::text`: a domain over char(n), bool or inet casts as its base
      // type does, which differs from its output text (sources/describeTable.ts, textOf).
      return outputText(quoteIdentifier(expr.name))
    case 'constant':
      if (expr.value === null) return `NULL${castSuffix(expr.type)}`
      if (expr.type === 'bool') return expr.value ? 'true' : 'false'
      return `${quoteLiteral(formatSqlValue(expr.type, expr.value))}${castSuffix(expr.type)}`
    case 'param':
      return `$${paramIndex(expr.number)}${castSuffix(expr.type)}`
    case 'and':
    case 'or':
      return `(${expr.args.map(render).join(expr.kind === 'and' ? ' AND ' : ' OR ')})`
    case 'not':
      return `(NOT ${render(expr.arg)})`
    case 'compare':
    case 'arithmetic':
      return `(${render(expr.left)} ${expr.operator} ${render(expr.right)})`
    case 'distinct':
      return `(${render(expr.left)} IS ${expr.negated ? 'NOT ' : ''}DISTINCT FROM ${render(expr.right)})`
    case 'negate':
      return `(- ${render(expr.arg)})`
    case 'concat':
      return `(${render(expr.left)} || ${render(expr.right)})`
    case 'like': {
      const operator = `${expr.negated ? 'NOT ' : ''}${expr.caseInsensitive ? 'ILIKE' : 'LIKE'}`
      return `(${render(expr.arg)} ${operator} ${render(expr.pattern)})`
    }
    case 'isNull':
      return `(${render(expr.arg)} IS ${expr.negated ? 'NOT ' : ''}NULL)`
    case 'booleanTest':
      return `(${render(expr.arg)} ${expr.test})`
    case 'function':
      return `${expr.name}(${render(expr.arg)})`
    case 'coalesce':
      return `COALESCE(${expr.args.map(render).join(', ')})`
    case 'cast':
      return `(${render(expr.arg)})${castSuffix(expr.type)}`
  }
}
