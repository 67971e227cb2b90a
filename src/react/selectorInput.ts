/**
 * What a `useShape` selector receives: a writable copy of the hook's result, so selectors written for
 * `@electric-sql/react` that edit the result and return it (`result.data = result.data.filter(…); return result`, a
 * pattern from Electric's own docs and tests) work unchanged.
 *
 * Invariants:
 * - Every selector call gets its own copy, so an edit never reaches the hook's cached result, another hook, or a
 *   later call of the same selector on the same snapshot (React may run a selector again, e.g. when it changes).
 * - The copy behaves like a plain object: every field is writable, configurable and enumerable, and it is not
 *   frozen. `data` and `rows` stay lazy (shapeResult.ts): they are accessors that read the result only when read,
 *   and an assignment replaces the accessor with a plain value, so a selector that never reads `data` never makes
 *   the store build the array.
 */

/**
 * A `UseShapeResult` (or `UseSuspenseShapeResult`) as a selector receives it: the same fields, writable.
 * @example
 * const selector = (result: Writable<UseShapeResult<Todo>>) => { result.data = result.data.filter((t) => !t.done); return result }
 */
export type Writable<R> = { -readonly [K in keyof R]: R[K] }

/**
 * A writable copy of `result` whose accessors (`data`, `rows`) stay lazy until read or replaced.
 * @example
 * const input = selectorInput(store.getSnapshot()); input.data = input.data.slice(0, 10)
 */
export function selectorInput<R extends object>(result: R): Writable<R> {
  const copy = {} as Writable<R>
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(result))) {
    if (descriptor.get === undefined) {
      Object.defineProperty(copy, key, { value: descriptor.value as unknown, writable: true, enumerable: true, configurable: true })
      continue
    }
    const read = descriptor.get
    Object.defineProperty(copy, key, {
      get: () => read.call(result) as unknown,
      set: (value: unknown) => {
        Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true })
      },
      enumerable: true,
      configurable: true,
    })
  }
  return copy
}
