/**
 * The server's view of a compiled `where`: structurally the `CompiledWhere` of `whereClause.ts`, loaded lazily so
 * shapes without `where` (and the in-process testing server) never load the SQL parser.
 */
import type { WireRow } from '../core/protocol'
import type { TableDescription } from './sources/source'

export interface ShapeFilter {
  readonly sql: string
  readonly params: readonly string[]
  matches(row: WireRow): boolean
  readonly columns: readonly string[]
}

/** A refusal of `where`/`params`, with the messages for the 400 body. */
export interface WhereRefusal {
  field: 'where' | 'params'
  messages: readonly string[]
}

/** Compiles `where` with `whereClause.ts`; a `WhereClauseError` becomes a refusal, anything else rethrows. */
export async function loadWhereFilter(input: {
  where: string
  params: readonly string[]
  table: TableDescription
}): Promise<{ ok: true; filter: ShapeFilter } | { ok: false; refusal: WhereRefusal }> {
  const module = await import('./whereClause')
  try {
    return { ok: true, filter: await module.compileWhere(input) }
  } catch (error) {
    if (error instanceof module.WhereClauseError) {
      return { ok: false, refusal: { field: error.field, messages: error.messages } }
    }
    throw error
  }
}
