/**
 * A subset request compiled against its shape: the snapshot request that reads the shape's rows matching the
 * subset, in its order, offset and limited.
 *
 * Invariants:
 * - The subset's `where` is compiled like a shape's (whereClause.ts: parsed, allow-listed, rendered from the
 *   tree with its own params bound, never spliced) with its placeholders numbered after the shape's params, and is
 *   ANDed with the shape's compiled `where`: a row is read iff both match.
 * - `order_by` terms are parsed by `where/parseOrderBy.ts` and name columns of the table whose type
 *   every source can order by (`sources/sortRows.ts`), so the memory source never meets one it cannot sort.
 * - `order_by` is held to the `where` limits: its length (`maxWhereChars`) before it is parsed, its number of terms
 *   (`maxListItems`) after.
 * - Refusals name the subset field at fault (`where`, `params`, `order_by`) with all its messages; the parser
 *   modules load only when a subset has a `where` or an `order_by`.
 */
import type { ValidationErrors } from './requestParams'
import type { ShapeDefinition } from './shapeDefinition'
import type { SnapshotOrder, SnapshotRequest } from './sources/source'
import { sortableType } from './sources/sortRows'
import type { SubsetParams } from './subsetParams'
import { loadWhereFilter } from './whereFilter'
import { DEFAULT_WHERE_LIMITS } from './where/whereLimits'
import type { WhereLimits } from './where/whereLimits'

type SubsetQueryResult = { ok: true; value: SnapshotRequest } | { ok: false; errors: ValidationErrors }

/**
 * The snapshot request of `subset` on the shape `definition`.
 * @example
 * const compiled = await compileSubsetQuery(log.definition, subset)
 * if (compiled.ok) await source.snapshot(compiled.value)
 */
export async function compileSubsetQuery(
  definition: ShapeDefinition,
  subset: SubsetParams,
  /** Size limits of the subset's `where` and `params` (where/whereLimits.ts); default `DEFAULT_WHERE_LIMITS`. */
  limits?: WhereLimits,
): Promise<SubsetQueryResult> {
  const { table } = definition
  const shapeParams = definition.where?.params ?? []
  const errors: ValidationErrors = {}
  let where = definition.where?.sql
  let params: readonly string[] = shapeParams
  if (subset.where !== undefined) {
    const compiled = await loadWhereFilter({
      where: subset.where,
      params: subset.params,
      table,
      paramOffset: shapeParams.length,
      ...(limits ? { limits } : {}),
    })
    if (compiled.ok) {
      where = where === undefined ? compiled.filter.sql : `(${where}) AND (${compiled.filter.sql})`
      params = [...shapeParams, ...compiled.filter.params]
    } else {
      errors[compiled.refusal.field] = [...compiled.refusal.messages]
    }
  }
  let orderBy: SnapshotOrder[] = []
  const bounds = limits ?? DEFAULT_WHERE_LIMITS
  if (subset.orderBy !== undefined && subset.orderBy.length > bounds.maxWhereChars) {
    // Checked before parsing: libpg-query parses synchronously, so a huge order_by would hold the event loop.
    errors['order_by'] = [
      `Invalid order_by: it is ${subset.orderBy.length} characters long, more than the server's limit of ${bounds.maxWhereChars}`,
    ]
  } else if (subset.orderBy !== undefined) {
    const { parseOrderBy } = await import('./where/parseOrderBy')
    const parsed = await parseOrderBy(subset.orderBy)
    const refusal = !parsed.ok
      ? parsed.message
      : parsed.terms.length > bounds.maxListItems
        ? `Invalid order_by: ${parsed.terms.length} terms, more than the server's limit of ${bounds.maxListItems}`
        : parsed.terms.map((term) => orderTermRefusal(definition, term.column)).find(Boolean)
    if (refusal !== undefined) errors['order_by'] = [refusal]
    else if (parsed.ok) orderBy = parsed.terms
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors }
  return {
    ok: true,
    value: {
      table,
      where,
      params,
      ...(orderBy.length > 0 ? { orderBy } : {}),
      ...(subset.offset !== undefined ? { offset: subset.offset } : {}),
      ...(subset.limit !== undefined ? { limit: subset.limit } : {}),
    },
  }
}

/** Why `column` cannot be an order_by term of the shape's table, or undefined when it can. */
function orderTermRefusal(definition: ShapeDefinition, column: string): string | undefined {
  const description = definition.table.columns.find((candidate) => candidate.name === column)
  if (description === undefined) return `Invalid order_by: column "${column}" does not exist`
  if (sortableType(definition.table, column) !== undefined) return undefined
  const type = description.dims > 0 ? `${description.type}[]` : description.type
  return `Invalid order_by: column "${column}" has type ${type}, which the dev server cannot order by`
}
