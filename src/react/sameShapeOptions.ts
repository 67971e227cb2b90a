/**
 * Decides whether two renders describe the same shape, so an inline options object does not re-create the shape.
 *
 * Invariants:
 * - O1. Plain objects and arrays compare by value, recursively; key order does not matter.
 * - O2. Functions and every other object (parsers, column mappers, header getters, signals) compare by identity.
 *   Function source text is never read: two different closures with the same text are different.
 * - O3. Keys the shape's identity does not depend on (`onError`, `backoff`, and the hook-only options) are ignored,
 *   so an inline `onError` or selector does not re-subscribe.
 */

const IGNORED_KEYS: ReadonlySet<string> = new Set(['onError', 'backoff', 'selector', 'isEqual', 'enabled', 'signal', 'suspense'])

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameValue(item, b[index]))
  }
  if (isPlainObject(a) && isPlainObject(b)) return sameRecord(a, b, undefined)
  return false
}

function definedKeys(record: Record<string, unknown>, ignored: ReadonlySet<string> | undefined): string[] {
  return Object.keys(record).filter((key) => record[key] !== undefined && !(ignored?.has(key) ?? false))
}

function sameRecord(a: Record<string, unknown>, b: Record<string, unknown>, ignored: ReadonlySet<string> | undefined): boolean {
  const keysA = definedKeys(a, ignored)
  const keysB = definedKeys(b, ignored)
  return keysA.length === keysB.length && keysA.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]))
}

/**
 * True when `a` and `b` describe the same shape for the hooks (O1–O3).
 * @example
 * sameShapeOptions({ url, params: { table: 't' } }, { url, params: { table: 't' } }) // true
 */
export function sameShapeOptions(a: object, b: object): boolean {
  return a === b || sameRecord(a as Record<string, unknown>, b as Record<string, unknown>, IGNORED_KEYS)
}
