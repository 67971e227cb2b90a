/**
 * Reading libpg-query parse-tree nodes the way `analyzeWhere` needs them: names, built-in names, required
 * operands and parenthesized lists. A node of the wrong shape is refused with a `where` error, never passed on.
 * Also what `parseWhereTree` and `parseOrderBy` share: the sole SELECT a clause was embedded in, syntax errors.
 */
import type { Node, ParseResult, SelectStmt } from 'libpg-query'
import { IN_SHAPE_WHERE, whereError } from './analyzedValue'

/** The strings of a name list (`schema.name`), or undefined when an element is not a plain string. */
export function stringsOf(nodes: readonly Node[] | undefined): string[] | undefined {
  const names: string[] = []
  for (const node of nodes ?? []) {
    if (!('String' in node)) return undefined
    names.push(node.String.sval ?? '')
  }
  return names
}

/** The name of a built-in (unqualified or `pg_catalog.`-qualified), or undefined for anything else. */
export function builtinName(nodes: readonly Node[] | undefined): string | undefined {
  const names = stringsOf(nodes)
  if (names?.length === 1) return names[0]
  if (names?.length === 2 && names[0] === 'pg_catalog') return names[1]
  return undefined
}

/** An operand the grammar requires; its absence is an incomplete expression. */
export function required(node: Node | undefined): Node {
  if (!node) throw whereError('Invalid where clause: incomplete expression')
  return node
}

/** The items of the parenthesized list of IN or BETWEEN. */
export function listItems(node: Node): readonly Node[] {
  if ('List' in node) return node.List.items ?? []
  throw whereError(`IN and BETWEEN need a parenthesized list ${IN_SHAPE_WHERE}`)
}

/**
 * A libpg-query syntax error as a refusal message: `<label>: <parser message>`, with the 1-based character position
 * within the user's text when the parser reports one past `prefixLength` (the SQL the text was embedded after).
 */
export function syntaxErrorMessage(error: unknown, label: string, prefixLength: number): string {
  const details = (error as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails
  const message = details?.message ?? (error instanceof Error ? error.message : String(error))
  const position = details?.cursorPosition
  if (position === undefined || position < prefixLength) return `${label}: ${message}`
  return `${label}: ${message} (at character ${position - prefixLength + 1})`
}

/**
 * The one plain SELECT of a parse result whose keys are all in `allowedKeys` (no set operation, no LIMIT, no other
 * statement), or undefined: how user text embedded in `SELECT 1 FROM t …` is held to the clause it was meant as.
 */
export function soleSelect(result: ParseResult, allowedKeys: readonly string[]): SelectStmt | undefined {
  const statements = result.stmts ?? []
  const statement = statements[0]?.stmt
  const select = statement !== undefined && 'SelectStmt' in statement ? statement.SelectStmt : undefined
  const plain =
    statements.length === 1 &&
    select !== undefined &&
    select.op === 'SETOP_NONE' &&
    (select.limitOption === undefined || select.limitOption === 'LIMIT_OPTION_DEFAULT') &&
    Object.keys(select).every((key) => allowedKeys.includes(key))
  return plain ? select : undefined
}
