/**
 * Size limits on a `where` clause and its params, so one request cannot stall the server: PGlite parses and plans
 * in the server's own thread (an 8 MB `IN (…)` held its event loop for 18 s), and PostgreSQL holds a pooled
 * connection for as long as the query runs.
 *
 * Invariants:
 * - The text limits (`maxWhereChars`, `maxParams`, `maxParamsChars`) are checked before the clause is parsed,
 *   in time linear in the text; the list limit (`maxListItems`) is checked on the parse tree, before analysis,
 *   rendering or any query. Sizes are in UTF-16 code units, as JavaScript counts a string's length.
 * - `maxListItems` bounds every list of the tree: the items of an `IN (…)` list, the arguments of one chain of
 *   `AND` or `OR`, of a function call or of an `ARRAY[…]`, so a long disjunction cannot stand in for a long IN list.
 * - A refusal is a `WhereClauseError` naming the field at fault (`where` or `params`), so the handler answers
 *   400 with Electric's body; the message says the size and the limit, never the clause.
 */
import { WhereClauseError } from './whereClauseError'

/**
 * Size limits of a `where` and its params; `createShapeHandler({ whereLimits })` takes any part of them.
 * @example
 * createShapeHandler({ source, whereLimits: { maxWhereChars: 4096, maxListItems: 200 } })
 */
export interface WhereLimits {
  /** Longest `where` accepted, in characters. Default 16 384. */
  maxWhereChars: number
  /** Most `$n` params accepted. Default 1 000. */
  maxParams: number
  /** Longest total of the params' values, in characters. Default 65 536. */
  maxParamsChars: number
  /** Most items in one list of the clause: an `IN (…)` list, an AND/OR chain, a call's arguments. Default 1 000. */
  maxListItems: number
}

/**
 * The limits a handler applies unless told otherwise.
 * @example
 * createShapeHandler({ source, whereLimits: { maxParams: DEFAULT_WHERE_LIMITS.maxParams * 2 } })
 */
export const DEFAULT_WHERE_LIMITS: Readonly<WhereLimits> = Object.freeze({
  maxWhereChars: 16_384,
  maxParams: 1_000,
  maxParamsChars: 65_536,
  maxListItems: 1_000,
})

/**
 * Refuses a clause or params over the text limits, before anything parses them.
 * @throws WhereClauseError
 * @example
 * checkWhereText({ where: query.where, params: query.params }, DEFAULT_WHERE_LIMITS)
 */
export function checkWhereText(input: { where: string; params: readonly string[] }, limits: WhereLimits): void {
  if (input.where.length > limits.maxWhereChars) {
    throw new WhereClauseError('where', [
      `Invalid where clause: it is ${input.where.length} characters long, more than the server's limit of ${limits.maxWhereChars}`,
    ])
  }
  if (input.params.length > limits.maxParams) {
    throw new WhereClauseError('params', [
      `Too many parameters: ${input.params.length}, more than the server's limit of ${limits.maxParams}`,
    ])
  }
  let chars = 0
  for (const value of input.params) chars += typeof value === 'string' ? value.length : 0
  if (chars > limits.maxParamsChars) {
    throw new WhereClauseError('params', [
      `The parameters are ${chars} characters long in total, more than the server's limit of ${limits.maxParamsChars}`,
    ])
  }
}

/**
 * Refuses a parse tree holding a list longer than `maxListItems`. Iterative: a deep tree cannot overflow.
 * @throws WhereClauseError
 * @example
 * checkWhereLists(await parseWhereTree(where), DEFAULT_WHERE_LIMITS)
 */
export function checkWhereLists(tree: unknown, limits: WhereLimits): void {
  const pending: unknown[] = [tree]
  while (pending.length > 0) {
    const node = pending.pop()
    if (typeof node !== 'object' || node === null) continue
    if (Array.isArray(node)) {
      if (node.length > limits.maxListItems) {
        throw new WhereClauseError('where', [
          `Invalid where clause: a list of ${node.length} items (an IN list, an AND/OR chain or a call's arguments) ` +
            `is longer than the server's limit of ${limits.maxListItems}`,
        ])
      }
      for (const item of node) pending.push(item)
    } else {
      for (const value of Object.values(node)) pending.push(value)
    }
  }
}
