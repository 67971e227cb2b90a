/**
 * The one plain-object check of the package: what JSON gives (and object literals), not arrays, class instances,
 * Maps or Dates.
 *
 * Invariant: a value is a plain object when it is a non-null object whose prototype is `Object.prototype` or `null`.
 * Arrays and every other built-in or class instance fail the prototype test, so the check needs no special cases.
 */

/**
 * True for `{…}`, `JSON.parse` objects and `Object.create(null)`; false for arrays, `null`, Maps, Dates, instances.
 * @example
 * isPlainObject(JSON.parse('{"a":1}')) // true
 * isPlainObject([1]) // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
