/**
 * Parses a where clause with the real PostgreSQL parser (libpg-query, WASM) and returns its expression tree.
 *
 * Rules:
 * - The clause is parsed as the WHERE of `SELECT 1 FROM t WHERE <clause>`; the result must be exactly one
 *   plain SELECT with nothing but that WHERE, so `1=1; DROP TABLE x`, `… UNION SELECT …`, `… LIMIT 1` or
 *   `… ORDER BY` are refused however they are spelled. (The user's text is never spliced into SQL anyway.)
 * - A syntax error reports the parser's message and the 1-based character position within the clause.
 * - The WASM module is loaded once per process (libpg-query keeps it); parse results are never cached.
 */
import { loadModule, parseSync, type Node } from 'libpg-query'
import { soleSelect, syntaxErrorMessage } from './parseTreeNodes'
import { WhereClauseError } from './whereClauseError'

const PREFIX = 'SELECT 1 FROM t WHERE '
const ALLOWED_SELECT_KEYS: readonly string[] = ['targetList', 'fromClause', 'whereClause', 'limitOption', 'op']

/** The parse tree of the clause's expression; throws `WhereClauseError` for anything else. */
export async function parseWhereTree(where: string): Promise<Node> {
  if (where.trim() === '') throw new WhereClauseError('where', ['Invalid where clause: the where clause is empty'])
  // The parser reads a C string: text after a NUL would be silently dropped.
  if (where.includes('\u0000')) throw new WhereClauseError('where', ['Invalid where clause: it contains a NUL character'])
  await loadModule()
  let result: ReturnType<typeof parseSync>
  try {
    result = parseSync(`${PREFIX}${where}`)
  } catch (error) {
    throw new WhereClauseError('where', [syntaxErrorMessage(error, 'Invalid where clause', PREFIX.length)])
  }
  const select = soleSelect(result, ALLOWED_SELECT_KEYS)
  if (select?.whereClause === undefined) {
    throw new WhereClauseError('where', [
      'Invalid where clause: it must be a single boolean expression (no statements, clauses or set operations after it)',
    ])
  }
  return select.whereClause
}
