/**
 * A development check, after react-redux's: a selector that returns a different value for the same input re-renders
 * its component on every store change (and runs again on every render), which is almost always a mistake.
 *
 * Invariants:
 * - It runs only where `process.env.NODE_ENV` exists and is not `production`, once per hook instance and shape,
 *   and only warns: it never changes what the hook returns. It reads `process.env.NODE_ENV` literally, so an app
 *   bundler that replaces that expression (Vite, webpack, Next) turns the check on in a browser development build,
 *   where there is no `process` object; where nothing replaces it and there is no `process`, the read throws and the
 *   check stays off.
 * - "Different" uses the hook's own `isEqual` (default `Object.is`), so `isEqual: shallow` silences it for
 *   selectors that build a new array of the same rows.
 * - Each run gets its own input (a selector may edit it), and a selector that returns the input it was given
 *   (Electric's "edit the result and return it" pattern) is not warned about: a new result per change is what it
 *   asks for, and it is computed once per change, not once per render.
 */

function isDevelopment(): boolean {
  try {
    return process.env.NODE_ENV !== 'production'
  } catch {
    return false
  }
}

/**
 * Warns when `selector` gives two unequal results for two copies of one input.
 * @example
 * warnUnstableSelector(selector, () => selectorInput(store.getSnapshot()), isEqual)
 */
export function warnUnstableSelector<I, S>(
  selector: (input: I) => S,
  input: () => I,
  isEqual: ((a: S, b: S) => boolean) | undefined,
): void {
  if (!isDevelopment()) return
  const firstInput = input()
  const first = selector(firstInput)
  const secondInput = input()
  const second = selector(secondInput)
  if ((first as unknown) === firstInput && (second as unknown) === secondInput) return
  if ((isEqual ?? Object.is)(first, second)) return
  console.warn(
    'live-shapes: the useShape selector returned a different value for the same input, so the component re-renders ' +
      'on every change of the shape. Pass `isEqual: shallow` (or another equality) or return existing values.',
  )
}
