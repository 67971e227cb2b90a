/**
 * A subset snapshot request's own params (protocol §1.3): read from `subset__*` query params (GET) or a JSON body
 * (POST), cast and validated as Electric's `SubsetParams` changeset does, before anything is compiled.
 *
 * Invariants:
 * - A GET asks for a subset iff it has a `subset__*` param (even an empty one); a POST always does. Only
 *   `where`, `params`, `limit`, `offset` and `order_by` are read; `where_expr` / `order_by_expr` (sent by
 *   `@electric-sql/client` next to the compiled SQL) and unknown keys are ignored, as Electric's server ignores them.
 * - Casting as Ecto's: a blank string is absent; `where` and `order_by` must be strings; `limit` and `offset`
 *   integers or decimal integer strings; `params` a JSON object (in GET, its JSON text) whose scalar values become
 *   strings (`null` the empty string). All cast and validation errors are reported together, per key.
 * - `limit` > 0, `offset` >= 0, and `order_by` is required once `limit` or `offset` was given (and cast).
 * - `params` keys number `$1..$n` densely from 1, as the shape's own params (requestParams.ts).
 * - A POST body must be a JSON object (blank counts as `{}`) of at most {@link MAX_SUBSET_BODY_CHARS}
 *   characters; anything else is refused with Electric's `{"error": …}` bodies (400, or 413 when too large).
 */
import { isPlainObject } from '../core/isPlainObject'
import { denseParams, type ValidationErrors } from './requestParams'

/** A cast and validated subset request; `params[0]` is `$1`. */
export interface SubsetParams {
  where: string | undefined
  params: string[]
  limit: number | undefined
  offset: number | undefined
  orderBy: string | undefined
}

type SubsetParamsResult = { ok: true; value: SubsetParams } | { ok: false; errors: ValidationErrors }

/** The POST body size Electric's JSON parser accepts. */
export const MAX_SUBSET_BODY_CHARS = 8_000_000

/** The raw subset fields of a GET, or undefined when it asks for no subset. */
export function subsetFieldsOfSearch(search: URLSearchParams): Record<string, unknown> | undefined {
  let fields: Record<string, unknown> | undefined
  for (const [name, value] of search) {
    if (!name.startsWith('subset__')) continue
    fields ??= {}
    fields[name.slice('subset__'.length)] = value
  }
  return fields
}

/** The raw subset fields of a POST body, or the status and `{error}` body that refuses it. */
export function subsetFieldsOfBody(
  text: string,
): { ok: true; fields: Record<string, unknown> } | { ok: false; status: 400 | 413; body: { error: string; details?: string } } {
  if (text.length > MAX_SUBSET_BODY_CHARS) return { ok: false, status: 413, body: { error: 'Request body too large' } }
  if (text.trim() === '') return { ok: true, fields: {} }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return { ok: false, status: 400, body: { error: 'Invalid JSON in request body', details: (error as Error).message } }
  }
  if (!isPlainObject(parsed)) return { ok: false, status: 400, body: { error: 'Request body must be a JSON object' } }
  return { ok: true, fields: parsed }
}

/**
 * Casts and validates raw subset fields; `params` arrives as JSON text from a GET, as an object from a POST.
 * @example
 * const subset = castSubsetParams(subsetFieldsOfSearch(url.searchParams) ?? {})
 * if (!subset.ok) return errorResponse(request, 400, { message: 'Invalid request', errors: { subset: subset.errors } })
 */
export function castSubsetParams(fields: Readonly<Record<string, unknown>>): SubsetParamsResult {
  const errors: ValidationErrors = {}
  const add = (field: string, message: string): void => {
    ;(errors[field] ??= []).push(message)
  }
  const text = (field: string): string | undefined => {
    const value = fields[field]
    if (isBlank(value)) return undefined
    if (typeof value === 'string') return value
    add(field, 'is invalid')
    return undefined
  }
  const integer = (field: string): number | undefined => {
    const value = fields[field]
    if (isBlank(value)) return undefined
    const cast = typeof value === 'number' ? value : typeof value === 'string' && /^[+-]?\d+$/.test(value) ? Number(value) : NaN
    if (Number.isSafeInteger(cast)) return cast
    add(field, 'is invalid')
    return undefined
  }

  const where = text('where')
  const orderBy = text('order_by')
  const limit = integer('limit')
  const offset = integer('offset')
  const params = castParams(fields['params'])
  if (!params.ok) add('params', params.message)

  if (limit !== undefined && limit <= 0) add('limit', 'must be greater than 0')
  if (offset !== undefined && offset < 0) add('offset', 'must be greater than or equal to 0')
  if ((limit !== undefined || offset !== undefined) && orderBy === undefined) {
    add('order_by', 'order_by is required when limit or offset is present')
  }
  if (Object.keys(errors).length > 0 || !params.ok) return { ok: false, errors }
  return { ok: true, value: { where, params: params.value, limit, offset, orderBy } }
}

/** An absent field: missing, null or only whitespace. */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
}

/** `params` to a dense `$1..$n` array. */
function castParams(raw: unknown): { ok: true; value: string[] } | { ok: false; message: string } {
  if (raw === undefined || raw === null || raw === '') return { ok: true, value: [] }
  let object: unknown = raw
  if (typeof raw === 'string') {
    try {
      object = JSON.parse(raw)
    } catch {
      return { ok: false, message: 'params must be valid JSON' }
    }
  }
  if (!isPlainObject(object)) return { ok: false, message: 'params must be a JSON object' }
  const byIndex = new Map<number, string>()
  for (const [key, value] of Object.entries(object)) {
    if (!/^[1-9]\d*$/.test(key) || !Number.isSafeInteger(Number(key))) return { ok: false, message: `Invalid parameter name: ${key}` }
    if (typeof value === 'object' && value !== null) return { ok: false, message: `Parameter $${key} must be a string` }
    byIndex.set(Number(key), value === null ? '' : String(value))
  }
  return denseParams(byIndex)
}
