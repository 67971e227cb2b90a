/**
 * Parses a subset's `order_by` with the real PostgreSQL parser (libpg-query) into column terms.
 *
 * Rules:
 * - The text is parsed as the ORDER BY of `SELECT 1 FROM t ORDER BY <order_by>`; the result must be exactly one
 *   plain SELECT with nothing but that ORDER BY, so `id; DROP TABLE x`, `id LIMIT 1` or `id FOR UPDATE` are refused.
 * - Each term is a bare column name (quoted or not, as PostgreSQL folds it) with an optional ASC/DESC and
 *   NULLS FIRST/LAST. Expressions, positions (`ORDER BY 1`), qualified names, COLLATE and USING are refused.
 * - NULL placement defaults as in PostgreSQL: NULLS LAST for ASC, NULLS FIRST for DESC; the terms carry it
 *   explicitly, so rendering them back (quoted identifiers) means the same on every source.
 * - A syntax error reports the parser's message and the 1-based character position within `order_by`.
 */
import { loadModule, parseSync, type Node } from 'libpg-query'
import type { SnapshotOrder } from '../sources/source'
import { soleSelect, syntaxErrorMessage } from './parseTreeNodes'

const PREFIX = 'SELECT 1 FROM t ORDER BY '
const ALLOWED_SELECT_KEYS: readonly string[] = ['targetList', 'fromClause', 'sortClause', 'limitOption', 'op']
const ONLY_COLUMNS =
  'Invalid order_by: only column names, each with an optional ASC or DESC and NULLS FIRST or NULLS LAST, are supported'

/**
 * The terms of `orderBy`, or the message refusing it.
 * @example
 * const parsed = await parseOrderBy('"title" DESC NULLS LAST, id')
 * if (parsed.ok) source.snapshot({ ...request, orderBy: parsed.terms })
 */
export async function parseOrderBy(
  orderBy: string,
): Promise<{ ok: true; terms: SnapshotOrder[] } | { ok: false; message: string }> {
  if (orderBy.includes('\u0000')) return { ok: false, message: 'Invalid order_by: it contains a NUL character' }
  await loadModule()
  let result: ReturnType<typeof parseSync>
  try {
    result = parseSync(`${PREFIX}${orderBy}`)
  } catch (error) {
    return { ok: false, message: syntaxErrorMessage(error, 'Invalid order_by', PREFIX.length) }
  }
  const select = soleSelect(result, ALLOWED_SELECT_KEYS)
  if (select?.sortClause === undefined) {
    return { ok: false, message: 'Invalid order_by: it must be a list of sort terms (no statements or clauses after it)' }
  }
  const terms: SnapshotOrder[] = []
  for (const item of select.sortClause) {
    const term = sortTerm(item)
    if (term === undefined) return { ok: false, message: ONLY_COLUMNS }
    terms.push(term)
  }
  return { ok: true, terms }
}

function sortTerm(item: Node): SnapshotOrder | undefined {
  if (!('SortBy' in item)) return undefined
  const sortBy = item.SortBy
  const node = sortBy.node
  if (node === undefined || !('ColumnRef' in node) || sortBy.useOp !== undefined) return undefined
  const fields = node.ColumnRef.fields ?? []
  const only = fields.length === 1 ? fields[0] : undefined
  if (only === undefined || !('String' in only) || typeof only.String.sval !== 'string') return undefined
  let direction: SnapshotOrder['direction']
  switch (sortBy.sortby_dir) {
    case undefined:
    case 'SORTBY_DEFAULT':
    case 'SORTBY_ASC':
      direction = 'asc'
      break
    case 'SORTBY_DESC':
      direction = 'desc'
      break
    default:
      return undefined
  }
  let nulls: SnapshotOrder['nulls']
  switch (sortBy.sortby_nulls) {
    case undefined:
    case 'SORTBY_NULLS_DEFAULT':
      nulls = direction === 'asc' ? 'last' : 'first'
      break
    case 'SORTBY_NULLS_FIRST':
      nulls = 'first'
      break
    case 'SORTBY_NULLS_LAST':
      nulls = 'last'
      break
    default:
      return undefined
  }
  return { column: only.String.sval, direction, nulls }
}
