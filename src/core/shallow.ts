/**
 * `shallow`: equality one level deep, the package's only one: the store keeps a row's identity when an insert or
 * refetch brings a shallow-equal row (shapeStore.ts), and selectors that build a new array or object from unchanged
 * parts pass it as `isEqual`.
 *
 * Invariant:
 * - Two values are equal when they are `Object.is`, or both arrays (or Maps, Sets, plain objects) of the same
 *   kind whose items/entries/own enumerable properties are pairwise `Object.is` (Maps and Sets in any order of
 *   insertion for Sets, by key for Maps). Values of different kinds are never equal.
 */

/** Same length and `Object.is`-equal items at every index. */
export function sameIterableOrder(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (!Object.is(a[index], b[index])) return false
  return true
}

/**
 * Shallow equality. Pass it as `isEqual` when a selector returns a new array or object each time.
 *
 * @example
 * const open = useShape<Todo, Todo[]>({ url, params: { table: 'todos' }, selector: (r) => r.data.filter((t) => !t.done), isEqual: shallow })
 */
export function shallow<V>(a: V, b: V): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (Array.isArray(a)) return sameIterableOrder(a, b as unknown as unknown[])
  if (a instanceof Map) {
    const other = b as unknown as Map<unknown, unknown>
    if (a.size !== other.size) return false
    for (const [key, value] of a) if (!other.has(key) || !Object.is(value, other.get(key))) return false
    return true
  }
  if (a instanceof Set) {
    const other = b as unknown as Set<unknown>
    if (a.size !== other.size) return false
    for (const value of a) if (!other.has(value)) return false
    return true
  }
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  const recordA = a as Record<string, unknown>
  const recordB = b as Record<string, unknown>
  return keysA.every((key) => Object.hasOwn(recordB, key) && Object.is(recordA[key], recordB[key]))
}
