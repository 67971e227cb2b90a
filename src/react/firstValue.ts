/**
 * `getServerSnapshot` for the hooks: the value as of the first call, for the life of the returned function.
 *
 * Invariant:
 * - Hydration must render what the server rendered, not what arrived since: the first value is kept and
 *   returned on every later call (the store's state as of hydration, or its empty state).
 */

/**
 * Wraps `read` so it is called once and its first result returned forever.
 * @example
 * const getServerSnapshot = useMemo(() => firstValue(() => shape.getStatus()), [shape])
 */
export function firstValue<V>(read: () => V): () => V {
  let captured: { value: V } | undefined
  return () => {
    captured ??= { value: read() }
    return captured.value
  }
}
