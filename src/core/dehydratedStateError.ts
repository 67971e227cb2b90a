/**
 * The error of dehydration and hydration: a value JSON cannot carry, or a state that is not a `DehydratedState`.
 */
import { InvalidOptionsError } from './errors'

/**
 * A dehydrated state (or a value going into one) is not what `hydrate` can use. `path` points at the culprit,
 * e.g. `shapes[0].rows[3][1].price`. Nothing was hydrated when it is thrown.
 * @example
 * try { parseDehydratedState(text) } catch (error) { if (error instanceof DehydratedStateError) log(error.path) }
 */
export class DehydratedStateError extends InvalidOptionsError {
  /** Where in the state (or in the row being dehydrated) the problem is. */
  readonly path: string
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`Dehydrated state, at ${path === '' ? 'the top' : path}: ${message}`, options)
    this.path = path
  }
}
