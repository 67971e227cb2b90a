/**
 * Resolves what a hook was given (a `Shape`, or options describing one) to a `Shape`, and keeps it running while the
 * component is mounted.
 *
 * Invariants:
 * - `client.shape()` runs only when the options describe another shape than the last render's, by the client's
 *   own identity (`shapeKey` over the options with the hook-only keys removed, functions by reference through ids
 *   this component holds): an inline options object reuses the same shape and nothing subscribes again on
 *   re-render, and the hook never keeps a shape the client would not give for the new options.
 * - The stream is retained in an effect and released in its cleanup. StrictMode's extra effect cycle is a
 *   release followed at once by a retain, which the client's grace period absorbs: one stream, not two.
 * - Anything but `undefined`, a `Shape` or an options object (`null`, a string) is the client's
 *   `InvalidOptionsError`, thrown during render for the nearest error boundary.
 * - `enabled: false` creates no shape at all (its options may not be valid yet), and an aborted `signal` releases
 *   this component's hold on the stream; other components using the same shape keep it open.
 * - `subscribe: false` holds the stream only until the first up-to-date, then lets it go (the rows stay).
 * - `onError` goes to the client through one wrapper per component that calls the latest `onError`, so an inline
 *   function neither changes the shape nor goes stale. The other function-valued options (header and param
 *   functions, `transformer`, the entries of an inline `parser` or column mapper) are left out when renders are
 *   compared, and a render that keeps the shape points its forwarders at that render's functions
 *   (core/functionForwarders.ts): inline functions never make a new shape, a request loop or a stale token.
 */
import { useContext, useEffect, useRef } from 'react'
import type { ErrorRecovery, Row, Shape, ShapeClient, ShapeError, ShapeOptions } from '../core/index'
import { ReferenceIds, RETARGET, shapeKey, structuralOptions, validateShapeOptions } from '../core/internal'
import { ShapeClientContext } from './ShapeClientProvider'
import { resolveShapeClient } from './useShapeClient'

/**
 * The options of a shape as the hooks take them: `ShapeOptions` plus what only a component can decide, and the
 * names `@electric-sql/react` uses for the same things.
 * @example
 * const options: ShapeHookOptions<Todo> = { url: '/v1/shape', params: { table: 'todos' }, enabled: userId !== undefined }
 */
export interface ShapeHookOptions<T = Row> extends ShapeOptions<T> {
  /** `false` creates no shape and opens no stream (default `true`). */
  enabled?: boolean | undefined
  /** Aborting it releases this component's hold on the stream. */
  signal?: AbortSignal | undefined
  /** `false`: sync up to the first up-to-date, then stop following changes (default `true`). */
  subscribe?: boolean | undefined
  /** `@electric-sql/react`'s former name for `liveSse`. */
  experimentalLiveSse?: boolean | undefined
}

/**
 * A shape for the hooks: the `Shape` itself (e.g. `useShape(...).shape`) or options describing one.
 * @example
 * useShapeStatus(shape) // or useShapeStatus({ url: '/v1/shape', params: { table: 'todos' } })
 */
export type ShapeOrOptions<T = Row> = Shape<T> | ShapeHookOptions<T>

/**
 * The former name of {@link ShapeOrOptions} ("source" also names the server's `ChangeSource`).
 * @deprecated Use `ShapeOrOptions`.
 * @example
 * const shapeOrOptions: ShapeOrOptions = { url: '/v1/shape', params: { table: 'todos' } }
 */
export type ShapeSource<T = Row> = ShapeOrOptions<T>

/** True when `shapeOrOptions` is a `Shape` rather than options. */
export function isShape<T>(shapeOrOptions: ShapeOrOptions<T>): shapeOrOptions is Shape<T> {
  return typeof (shapeOrOptions as Partial<Shape<T>>).retain === 'function'
}

interface Memo<T> {
  readonly client: ShapeClient
  readonly key: string
  readonly shape: Shape<T>
}

/**
 * The options only a component decides (`ShapeHookOptions` and `UseShapeOptions` beyond `ShapeOptions`): removed
 * before the options reach the client, so they never take part in a shape's identity. The one list of them.
 */
export const HOOK_ONLY_KEYS = ['enabled', 'signal', 'subscribe', 'experimentalLiveSse', 'selector', 'isEqual', 'suspense'] as const

function toShapeOptions<T>(options: ShapeHookOptions<T>, onError: ShapeOptions<T>['onError']): ShapeOptions<T> {
  const shapeOptions: Record<string, unknown> = { ...options }
  for (const key of HOOK_ONLY_KEYS) delete shapeOptions[key]
  if (options.liveSse === undefined && options.experimentalLiveSse !== undefined) shapeOptions.liveSse = options.experimentalLiveSse
  if (options.onError !== undefined) shapeOptions.onError = onError
  return shapeOptions as unknown as ShapeOptions<T>
}

/**
 * The shared `Shape` for `shapeOrOptions`, kept open while the component is mounted; `undefined` when disabled.
 * It does not re-render the component on changes: pass the shape to `useShapeKeys` and to row components using
 * `useShapeRow`, so a list re-renders on membership changes only and each row on its own changes only.
 *
 * @example
 * function TodoList() {
 *   const shape = useRetainedShape<Todo>({ url: '/v1/shape', params: { table: 'todos' } })
 *   const keys = useShapeKeys(shape)
 *   return <ul>{shape && keys.map((key) => <TodoRow key={key} shape={shape} rowKey={key} />)}</ul>
 * }
 */
export function useRetainedShape<T>(shapeOrOptions: ShapeOrOptions<T> | undefined): Shape<T> | undefined {
  // The client is resolved only for options: a hook given a `Shape` needs none (and so no provider on a server).
  const provided = useContext(ShapeClientContext)
  const memo = useRef<Memo<T> | undefined>(undefined)
  const ids = useRef<ReferenceIds | undefined>(undefined)
  const onErrorRef = useRef<ShapeOptions<T>['onError']>(undefined)
  const onErrorWrapper = useRef((error: ShapeError): ErrorRecovery | void | Promise<ErrorRecovery | void> =>
    onErrorRef.current?.(error),
  ).current

  let shape: Shape<T> | undefined
  let signal: AbortSignal | undefined
  let follow = true
  if (shapeOrOptions === undefined) {
    memo.current = undefined
  } else if (typeof shapeOrOptions !== 'object' || shapeOrOptions === null) {
    // `null` or a string from JavaScript: the client's typed error, not a TypeError from reading `.retain` below.
    validateShapeOptions(shapeOrOptions as unknown as ShapeOptions<unknown>)
  } else if (isShape(shapeOrOptions)) {
    shape = shapeOrOptions
  } else if (shapeOrOptions.enabled === false) {
    memo.current = undefined
  } else {
    signal = shapeOrOptions.signal
    follow = shapeOrOptions.subscribe !== false
    onErrorRef.current = shapeOrOptions.onError
    const client = resolveShapeClient(provided)
    const options = toShapeOptions(shapeOrOptions, onErrorWrapper)
    // Validated before keying, so bad options throw the client's typed error rather than a TypeError from keying.
    validateShapeOptions(options as ShapeOptions<unknown>)
    ids.current ??= new ReferenceIds()
    const key = shapeKey(structuralOptions(options) as ShapeOptions<unknown>, ids.current)
    const previous = memo.current
    if (previous !== undefined && previous.client === client && previous.key === key) {
      shape = previous.shape
      shape[RETARGET](options)
    } else {
      shape = client.shape<T>(options)
      memo.current = { client, key, shape }
    }
  }

  useEffect(() => {
    if (shape === undefined || signal?.aborted === true) return undefined
    let release: (() => void) | undefined = shape.retain()
    const releaseOnce = (): void => {
      const pending = release
      release = undefined
      pending?.()
    }
    signal?.addEventListener('abort', releaseOnce, { once: true })
    if (!follow) shape.whenUpToDate().then(releaseOnce, releaseOnce)
    return () => {
      signal?.removeEventListener('abort', releaseOnce)
      releaseOnce()
    }
  }, [shape, signal, follow])

  return shape
}
