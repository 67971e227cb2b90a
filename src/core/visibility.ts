/**
 * Page visibility as an injectable adapter: hidden pages pause their streams, visible ones catch up.
 *
 * Invariants:
 * - `browserVisibility()` touches `document` only when it exists, so core runs in Node, workers and SSR.
 * - `subscribe` returns the only way to remove the listener it added; nothing stays registered after it.
 */

/**
 * Tells a stream whether its page is hidden and when that changes (a browser tab, a React Native AppState…).
 * @example
 * const visibility: VisibilityAdapter = { isHidden: () => false, subscribe: () => () => {} }
 */
export interface VisibilityAdapter {
  isHidden(): boolean
  /** Calls `listener` after every visibility change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

interface VisibilityDocument {
  readonly hidden: boolean
  addEventListener(type: 'visibilitychange', listener: () => void): void
  removeEventListener(type: 'visibilitychange', listener: () => void): void
}

/**
 * The browser's `document.visibilitychange`, or `undefined` where there is no `document`.
 * @example
 * new ShapeClient({ visibility: browserVisibility() })
 */
export function browserVisibility(): VisibilityAdapter | undefined {
  const doc = (globalThis as { document?: VisibilityDocument }).document
  if (doc === undefined || typeof doc.addEventListener !== 'function') return undefined
  return {
    isHidden: () => doc.hidden,
    subscribe: (listener) => {
      const handler = (): void => listener()
      doc.addEventListener('visibilitychange', handler)
      return () => doc.removeEventListener('visibilitychange', handler)
    },
  }
}
