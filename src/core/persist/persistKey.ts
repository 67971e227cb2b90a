/**
 * Where a shape is stored: its definition key and the storage key of its entry.
 *
 * Invariants:
 * - The definition key is built from what identifies a shape across page loads: url, table, where, params, columns,
 *   replica, log and custom params. Functions have no identity across loads, so a shape with function-valued params
 *   is not persisted; headers, parser, columnMapper and transformer are not part of the key (change `buster` when
 *   they change what rows look like).
 * - Every entry key is `live-shapes/<namespace>/shape/<definition>`; the namespace index is `live-shapes/<namespace>/index`.
 */
import type { ShapeOptions } from '../shapeOptions'

/**
 * The definition key of `options` for storage, or `undefined` when a param is a function (not persistable).
 * @example
 * persistDefinitionKey({ url, params: { where: 'a', table: 't' } }) === persistDefinitionKey({ url, params: { table: 't', where: 'a' } })
 */
export function persistDefinitionKey(options: ShapeOptions<unknown>): string | undefined {
  const { table, where, params, columns, replica, ...custom } = options.params
  const values: unknown[] = [where, params, columns, ...Object.values(custom)]
  if (values.some((value) => typeof value === 'function')) return undefined
  const positional = Array.isArray(params)
    ? Object.fromEntries((params as readonly string[]).map((value, index) => [String(index + 1), value]))
    : (params ?? null)
  return JSON.stringify([
    options.url,
    table,
    where ?? null,
    canonical(positional),
    columns ?? null,
    replica ?? 'default',
    options.log ?? 'full',
    Object.keys(custom)
      .filter((key) => custom[key] !== undefined)
      .sort()
      .map((key) => [key, canonical(custom[key])]),
  ])
}

/** The key prefix of a namespace's entries and index. */
export function namespaceKey(namespace: string | undefined): string {
  return `live-shapes/${encodeURIComponent(namespace ?? 'default')}`
}

/** Where one shape is stored, or `undefined` when its definition cannot be persisted. */
export interface PersistTarget {
  /** The storage key of its entry. */
  key: string
  definition: string
  /** How warnings name it (its table). */
  label: string
}

/** The `PersistTarget` of `options` in the namespace `namespace`. */
export function persistTarget(namespace: string | undefined, options: ShapeOptions<unknown>): PersistTarget | undefined {
  const definition = persistDefinitionKey(options)
  if (definition === undefined) return undefined
  const label = typeof options.params.table === 'string' ? options.params.table : 'shape'
  return { key: `${namespaceKey(namespace)}/shape/${definition}`, definition, label }
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value) || typeof value !== 'object' || value === null) return value ?? null
  const record = value as Record<string, unknown>
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, canonical(record[key])]))
}
