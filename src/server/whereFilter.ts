/**
 * The server's view of a compiled `where`: the `CompiledWhere` of `whereClause.ts`, loaded lazily so shapes without
 * `where` (and the in-process testing server) never load the SQL parser (type imports load nothing).
 */
import type { TableDescription } from './sources/source'
import type { CompiledWhere } from './whereClause'
import type { WhereClauseErrorField } from './where/whereClauseError'
import type { WhereLimits } from './where/whereLimits'

export type ShapeFilter = CompiledWhere

/** A refusal of `where`/`params`, with the messages for the 400 body. */
export interface WhereRefusal {
  field: WhereClauseErrorField
  messages: readonly string[]
}

/** Compiles `where` with `whereClause.ts`; a `WhereClauseError` becomes a refusal, anything else rethrows. */
export async function loadWhereFilter(input: {
  where: string
  params: readonly string[]
  table: TableDescription
  /** Placeholders start at `$paramOffset + 1` (whereClause.ts: `params` renumbered `$1..$n`). */
  paramOffset?: number
  /** Size limits (whereClause.ts); default `DEFAULT_WHERE_LIMITS`. */
  limits?: WhereLimits | 'none'
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
