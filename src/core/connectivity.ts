/**
 * Network reachability and user attention as an injectable adapter: after an outage a stream should not sit out its
 * backoff once the browser says the network is back or the user returns to the page.
 *
 * Invariants:
 * - `browserConnectivity()` touches `navigator` and the global event target only when they exist, so core runs
 *   in Node, workers and SSR; where there is nothing to listen to it returns `undefined`.
 * - `isOnline()` is `false` only when the platform says so (`navigator.onLine === false`); `undefined` means it
 *   cannot tell. A stream never stops retrying because of it: `onLine` is a hint, often wrong in both directions.
 * - `subscribe` returns the only way to remove the listeners it added; nothing stays registered after it.
 */

/** What happened: the network came back, went away, or the page got the user's focus. */
export type ConnectivityChange = 'online' | 'offline' | 'focus'

/**
 * Tells a stream when retrying at once is worth it (`online`, `focus`) and whether the platform believes it is offline
 * (React Native's NetInfo, a test double…).
 * @example
 * const connectivity: ConnectivityAdapter = { isOnline: () => true, subscribe: () => () => {} }
 * new ShapeClient({ connectivity })
 */
export interface ConnectivityAdapter {
  /** `false` when the platform says it is offline, `undefined` when it cannot tell; a hint, never a reason to stop retrying. */
  isOnline(): boolean | undefined
  /** Calls `listener` on each change; returns the unsubscribe function. */
  subscribe(listener: (change: ConnectivityChange) => void): () => void
}

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

const EVENTS: readonly ConnectivityChange[] = ['online', 'offline', 'focus']

/**
 * The browser's (or worker's) `online` / `offline` / `focus` events and `navigator.onLine`, or `undefined` where the
 * platform has none of them.
 * @example
 * new ShapeClient({ connectivity: browserConnectivity() }) // the default
 */
export function browserConnectivity(): ConnectivityAdapter | undefined {
  const target = globalThis as Partial<EventTargetLike> & { navigator?: { onLine?: unknown } }
  const hasEvents = typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function'
  const hasOnLine = typeof target.navigator?.onLine === 'boolean'
  if (!hasEvents && !hasOnLine) return undefined
  return {
    isOnline: () => {
      const onLine = target.navigator?.onLine
      return typeof onLine === 'boolean' ? onLine : undefined
    },
    subscribe: (listener) => {
      if (!hasEvents) return () => undefined
      const events = target as EventTargetLike
      const handlers = EVENTS.map((type) => ({ type, handler: () => listener(type) }))
      for (const { type, handler } of handlers) events.addEventListener(type, handler)
      return () => {
        for (const { type, handler } of handlers) events.removeEventListener(type, handler)
      }
    },
  }
}
