/**
 * `/v1/shape` query validation: the query string becomes typed params, or the exact 400 body Electric sends.
 *
 * Invariants (Electric's `Api.Params` changeset, in its order):
 * - Casting comes first and reports all its errors together: `offset` blank, `replica`/`log` not in their enum,
 *   `live_sse` not a boolean (only reachable through `experimental_live_sse`), `columns` not an identifier list,
 *   `params` not in bracket form. Each later step runs only when everything before it passed.
 * - Then `offset` syntax, `handle` required unless the offset is `-1`/`now` (and dropped when it is), `live`
 *   refused with `-1`/`now`, `live_sse` refused without `live`, `table` required.
 * - `live` and `live_sse` are true for any present value except the literal `false`; `experimental_live_sse`
 *   is used only when `live_sse` is absent and goes through Ecto boolean casting (`true`/`false`/`1`/`0`).
 * - Unknown params are ignored. A blank value (empty or only whitespace) counts as absent, as Ecto's `cast` does
 *   (`columns=` and `params=` included), except for `live` and `live_sse` above. `subset__*` params are not part of
 *   the shape: they are read by `subsetParams.ts` once the shape is resolved (subsetSnapshot.ts).
 * - A param this server reads (`table`, `where`, `params[n]`, `subset__*`, …) given more than once is refused
 *   (400 naming it, with the cast errors). Electric takes the last value and a JS proxy's `searchParams.get` the
 *   first, so a proxy that checks one copy and forwards the query could otherwise authorize a value the shape never
 *   uses. The official clients never repeat them.
 * - `queryable_columns` (Electric's allow-list for `columns` and subset `where`/`order_by`) is refused with 400,
 *   not ignored: this server does not enforce it, and ignoring an allow-list would serve what it was meant to hide.
 */
import { BEFORE_ALL, NOW, isValidOffset } from '../core/offset'
import type { LogMode, Replica } from '../core/protocol'
import { parseColumnList, parseTableName } from './identifiers'

/** `errors` of a 400 body: field to messages. */
export type ValidationErrors = Record<string, string[]>

/** A validated `/v1/shape` GET query. */
export interface ShapeQuery {
  schema: string
  table: string
  where: string | undefined
  /** `$1..$n` values, index 0 is `$1`. */
  params: string[]
  /** Requested projection (parsed identifiers), or undefined for all columns. */
  columns: string[] | undefined
  replica: Replica
  log: LogMode
  /** `-1`, `now` or `TX_OP`. */
  offset: string
  /** Undefined when the offset is `-1` or `now`. */
  handle: string | undefined
  live: boolean
  liveSse: boolean
  cursor: string | undefined
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationErrors }

const ECTO_BOOLEAN: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false }

/**
 * Validates a `/v1/shape` query. Table existence, `columns` against the table and `where` are checked by
 * `resolveShapeDefinition`, which needs the source.
 * @example
 * const parsed = parseShapeQuery(new URL(request.url).searchParams)
 * if (!parsed.ok) return badRequest(parsed.errors)
 */
export function parseShapeQuery(search: URLSearchParams): ParseResult<ShapeQuery> {
  const value = (name: string): string | undefined => {
    const raw = search.get(name)
    return raw === null || raw.trim() === '' ? undefined : raw
  }
  const errors: ValidationErrors = {}
  const add = (field: string, message: string): void => {
    ;(errors[field] ??= []).push(message)
  }
  for (const name of repeatedReadParams(search)) add(name, 'must be given at most once')
  if (search.has('queryable_columns')) add('queryable_columns', 'is not supported by this server')

  const offset = value('offset')
  if (offset === undefined) add('offset', "can't be blank")
  const replica = value('replica') ?? 'default'
  if (replica !== 'default' && replica !== 'full') add('replica', 'is invalid')
  const log = value('log') ?? 'full'
  if (log !== 'full' && log !== 'changes_only') add('log', 'is invalid')

  const live = search.has('live') && search.get('live') !== 'false'
  let liveSse = false
  if (search.has('live_sse')) liveSse = search.get('live_sse') !== 'false'
  else {
    const experimental = value('experimental_live_sse')
    if (experimental !== undefined) {
      const cast = ECTO_BOOLEAN[experimental]
      if (cast === undefined) add('live_sse', 'is invalid')
      else liveSse = cast
    }
  }

  let columns: string[] | undefined
  const columnsParam = value('columns')
  if (columnsParam !== undefined) {
    const parsed = parseColumnList(columnsParam)
    if (parsed.ok) columns = parsed.value
    else add('columns', parsed.message)
  }

  const params = parseParams(search)
  if (!params.ok) add('params', params.message)

  if (Object.keys(errors).length > 0 || offset === undefined || !params.ok) return { ok: false, errors }

  if (!isValidOffset(offset)) return fail('offset', 'has invalid format')
  const positional = offset === BEFORE_ALL || offset === NOW
  const handle = positional ? undefined : value('handle')
  if (!positional && handle === undefined) return fail('handle', "can't be blank when offset != -1")
  if (live && offset === BEFORE_ALL) return fail('live', "can't be true when offset == -1")
  if (live && offset === NOW) return fail('live', "can't be true when offset is 'now'")
  if (liveSse && !live) return fail('live_sse', "can't be true unless live is also true")

  const tableParam = value('table')
  if (tableParam === undefined) return fail('table', "can't be blank")
  const table = parseTableName(tableParam)
  if (!table.ok) return fail('table', table.message)

  return {
    ok: true,
    value: {
      schema: table.schema,
      table: table.name,
      where: value('where'),
      params: params.value,
      columns,
      replica: replica as Replica,
      log: log as LogMode,
      offset,
      handle,
      live,
      liveSse,
      cursor: search.get('cursor') ?? undefined,
    },
  }
}

/** Params this server reads (as opposed to ignoring them); `params[n]` and `subset__*` are matched by pattern. */
const READ_PARAMS: ReadonlySet<string> = new Set([
  'table',
  'where',
  'params',
  'columns',
  'replica',
  'log',
  'offset',
  'handle',
  'live',
  'live_sse',
  'experimental_live_sse',
  'cursor',
])

/** The names of params this server reads that the query gives more than once, in order of first appearance. */
function repeatedReadParams(search: URLSearchParams): string[] {
  const seen = new Set<string>()
  const repeated = new Set<string>()
  for (const name of search.keys()) {
    if (!READ_PARAMS.has(name) && !name.startsWith('params[') && !name.startsWith('subset__')) continue
    if (seen.has(name)) repeated.add(name)
    seen.add(name)
  }
  return [...repeated]
}

/** A one-field validation failure. */
export function fail(field: string, message: string): { ok: false; errors: ValidationErrors } {
  return { ok: false, errors: { [field]: [message] } }
}

/** `params[n]=v` (bracket form only) to a dense `$1..$n` array. */
function parseParams(search: URLSearchParams): { ok: true; value: string[] } | { ok: false; message: string } {
  if (search.get('params')?.trim()) return { ok: false, message: 'is invalid' }
  const byIndex = new Map<number, string>()
  for (const [key, raw] of search) {
    const match = /^params\[([^\]]*)\]$/.exec(key)
    if (!match) continue
    const index = /^[1-9]\d*$/.test(match[1] as string) ? Number(match[1]) : NaN
    if (!Number.isSafeInteger(index)) return { ok: false, message: `Invalid parameter name: ${match[1]}` }
    byIndex.set(index, raw)
  }
  return denseParams(byIndex)
}

/**
 * Params by number to the `$1..$n` array, refused unless numbered 1..n without gaps (a shape's and a subset's).
 * @example
 * denseParams(new Map([[1, 'a'], [2, 'b']])) // { ok: true, value: ['a', 'b'] }
 */
export function denseParams(byIndex: ReadonlyMap<number, string>): { ok: true; value: string[] } | { ok: false; message: string } {
  const values: string[] = []
  for (let index = 1; index <= byIndex.size; index++) {
    const param = byIndex.get(index)
    if (param === undefined) return { ok: false, message: 'Parameters must be numbered sequentially, starting from 1' }
    values.push(param)
  }
  return { ok: true, value: values }
}
