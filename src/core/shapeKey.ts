/**
 * The identity of a shape definition: equal keys share one store and one stream.
 *
 * Invariants:
 * - The key covers url, table, where, positional params, columns, replica, log, custom params, headers, liveSse
 *   and lazyJson;
 *   param order, `params` as array or record, and the defaults (`replica=default`, `log=full`) do not matter.
 * - Functions (`transformer`, `fetchClient`, function-valued params and headers, the functions inside `parser` and
 *   `columnMapper`) count by reference, through ids held in a `ReferenceIds` owned by one client instance (or one
 *   component, for the hooks). Function source is never read. A plain-object `parser` or `columnMapper` counts by
 *   its entries, so an inline `{ int4: parseInt4 }` is the same parser on every render; any other object counts by
 *   reference (its behaviour may live on its prototype).
 * - This is the only shape identity: the hooks compare renders by this key too (react/useRetainedShape.ts), over
 *   their options with inline functions set aside (core/functionForwarders.ts: the shape calls the latest render's
 *   functions through forwarders), so a component never keeps a shape the client would not give it for its current
 *   options but for which function sits in a place.
 * - `onError`, `backoff` and `backoffOptions` are not part of the identity: the first subscriber's apply to the shared stream.
 */
import { isPlainObject } from './isPlainObject'
import type { ShapeOptions } from './shapeOptions'

/**
 * Numbers objects and functions by reference for one client; a `WeakMap`, so it keeps nothing alive.
 * @example
 * const ids = new ReferenceIds(); ids.idOf(fn) === ids.idOf(fn) // true
 */
export class ReferenceIds {
  readonly #ids = new WeakMap<object, number>()
  #next = 1

  /** A stable number for `reference`, assigned on first sight. */
  idOf(reference: object): number {
    let id = this.#ids.get(reference)
    if (id === undefined) {
      id = this.#next++
      this.#ids.set(reference, id)
    }
    return id
  }
}

/**
 * The identity key of `options`.
 * @example
 * shapeKey({ url, params: { table: 'a', where: 'x' } }, ids) === shapeKey({ url, params: { where: 'x', table: 'a' } }, ids)
 */
export function shapeKey(options: ShapeOptions<unknown>, ids: ReferenceIds): string {
  const { table, where, params, columns, replica, ...custom } = options.params
  const byReference = (value: unknown): unknown =>
    typeof value === 'function' ? { ref: ids.idOf(value) } : value
  const byEntries = (value: object | undefined): unknown =>
    value === undefined ? null : isPlainObject(value) ? sortedEntries(value, byReference) : { ref: ids.idOf(value) }
  return JSON.stringify([
    options.url,
    table,
    byReference(where) ?? null,
    canonical(typeof params === 'function' ? byReference(params) : positional(params)),
    canonical(byReference(columns)) ?? null,
    replica ?? 'default',
    options.log ?? 'full',
    sortedEntries(custom, byReference),
    sortedEntries(options.headers ?? {}, byReference),
    byEntries(options.parser),
    byEntries(options.columnMapper),
    options.transformer ? ids.idOf(options.transformer) : null,
    options.fetchClient ? ids.idOf(options.fetchClient) : null,
    options.liveSse ?? null,
    options.lazyJson === true,
  ])
}

function positional(params: unknown): unknown {
  if (params === undefined) return null
  if (Array.isArray(params)) return Object.fromEntries(params.map((value: unknown, index) => [String(index + 1), value]))
  return params
}

function sortedEntries(record: Readonly<Record<string, unknown>>, map: (value: unknown) => unknown): unknown[] {
  return Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => [key, canonical(map(record[key]))])
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value) || typeof value !== 'object' || value === null) return value ?? null
  const record = value as Record<string, unknown>
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, canonical(record[key])]))
}
