/**
 * Function-valued shape options, forwarded. A shape keeps the functions it was created with for its whole life, but
 * a component written the usual way passes new ones on every render (`headers: { authorization: () => token }`, an
 * inline `parser` or `createColumnMapper(...)`): the hooks keep the shape across such renders, so the shape must call
 * the latest render's functions, never the first render's (a token read by a header function must not go stale).
 *
 * Invariants:
 * - The places a function may sit: `transformer`, `fetchClient`, a value of `headers` or of `params`, an entry of a plain-object
 *   `parser` or `columnMapper`. A function anywhere else (a parser or mapper that is a class instance) is used as it
 *   is.
 * - A shape's stream, store and subsets get its options with each function in those places replaced by a forwarder
 *   created with the shape, which calls its `target`. The shape's identity (shapeKey.ts) is taken from the options as
 *   given, so equal options still share a shape, whoever created it.
 * - Only `retarget` moves a forwarder: the hooks call it through the shape (`Shape[RETARGET]`) when a render keeps
 *   the shape with new functions in the same places (react/useRetainedShape.ts). A place that holds no function
 *   then, or none at the shape's creation, is left as it is.
 */
import { isPlainObject } from './isPlainObject'
import type { ShapeOptions } from './shapeOptions'

type AnyFunction = (...args: never[]) => unknown

/** A function that calls its `target`. */
interface Forwarder {
  (...args: unknown[]): unknown
  target: AnyFunction
}

/** A shape's forwarders by place (`headers.authorization`, `parser.int4`, `transformer`, `fetchClient`…). */
export type Forwarders = ReadonlyMap<string, Forwarder>

/**
 * The key of `Shape`'s method that points its forwarders at the functions of later options (see the invariants);
 * internal (src/core/internal.ts), not part of the public API.
 * @example
 * shape[RETARGET](optionsOfThisRender)
 */
export const RETARGET: unique symbol = Symbol('retarget')

/** A stand-in for every function when renders are compared: only where functions sit counts. */
const PLACEHOLDER: AnyFunction = () => undefined

/** `options` with each function in the places above replaced by `replace(place, fn)`; the containers are copies. */
function mapFunctions<T>(options: ShapeOptions<T>, replace: (place: string, fn: AnyFunction) => AnyFunction): ShapeOptions<T> {
  let mapped: Record<string, unknown> | undefined
  const mapEntries = (name: string, container: unknown): void => {
    if (!isPlainObject(container)) return
    let copy: Record<string, unknown> | undefined
    for (const [key, value] of Object.entries(container)) {
      if (typeof value !== 'function') continue
      copy ??= { ...container }
      copy[key] = replace(`${name}.${key}`, value as AnyFunction)
    }
    if (copy !== undefined) (mapped ??= { ...options })[name] = copy
  }
  mapEntries('headers', options.headers)
  mapEntries('params', options.params)
  mapEntries('parser', options.parser)
  mapEntries('columnMapper', options.columnMapper)
  for (const name of ['transformer', 'fetchClient'] as const) {
    const fn = options[name]
    if (typeof fn === 'function') (mapped ??= { ...options })[name] = replace(name, fn as AnyFunction)
  }
  return (mapped ?? options) as unknown as ShapeOptions<T>
}

/**
 * `options` with every function in the places above replaced by one placeholder: what the hooks compare between
 * renders, so a new inline function is not a new shape.
 * @example
 * shapeKey(structuralOptions(options), ids) // the same for () => token on every render
 */
export function structuralOptions<T>(options: ShapeOptions<T>): ShapeOptions<T> {
  return mapFunctions(options, () => PLACEHOLDER)
}

/**
 * `options` as a new shape uses them: each function in the places above replaced by a forwarder to it, returned by
 * place in `forwarders` for `retarget`.
 * @example
 * const { options: forwarded, forwarders } = forwardFunctions(options)
 */
export function forwardFunctions<T>(options: ShapeOptions<T>): { options: ShapeOptions<T>; forwarders: Forwarders } {
  const forwarders = new Map<string, Forwarder>()
  const forwarded = mapFunctions(options, (place, fn) => {
    const forwarder = ((...args: unknown[]) => (forwarder.target as (...args: unknown[]) => unknown)(...args)) as Forwarder
    forwarder.target = fn
    forwarders.set(place, forwarder)
    return forwarder
  })
  return { options: forwarded, forwarders }
}

/**
 * Points each forwarder at the function now in its place in `options`.
 * @example
 * retarget(forwarders, optionsOfThisRender)
 */
export function retarget<T>(forwarders: Forwarders, options: ShapeOptions<T>): void {
  if (forwarders.size === 0) return
  mapFunctions(options, (place, fn) => {
    const forwarder = forwarders.get(place)
    if (forwarder !== undefined) forwarder.target = fn
    return fn
  })
}
