/**
 * When a page may be about to go away (`pagehide`, or `visibilitychange` to hidden) as an injectable adapter: the
 * moment persisted shapes write what the throttle still holds.
 *
 * Invariants:
 * - `browserPageHide()` touches `window`/`document` only when they exist, so core runs in Node, workers and SSR.
 * - `subscribe` returns the only way to remove the listeners it added; nothing stays registered after it.
 */

/**
 * Tells a client that its page is being hidden or unloaded (a browser tab, React Native's AppState `background`…).
 * @example
 * const pageHide: PageHideAdapter = { subscribe: (listener) => AppState.addEventListener('change', (s) => s === 'background' && listener()).remove }
 */
export interface PageHideAdapter {
  /** Calls `listener` whenever the page is hidden or unloaded; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
}

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/**
 * The browser's `pagehide` and `visibilitychange` (hidden), or `undefined` where there is no `window`.
 * @example
 * new ShapeClient({ persist: { storage, pageHide: browserPageHide() } }) // the default
 */
export function browserPageHide(): PageHideAdapter | undefined {
  const scope = globalThis as { window?: EventTargetLike; document?: EventTargetLike & { hidden?: boolean } }
  const win = scope.window
  const doc = scope.document
  if (win === undefined || typeof win.addEventListener !== 'function') return undefined
  return {
    subscribe: (listener) => {
      const onPageHide = (): void => listener()
      const onVisibility = (): void => {
        if (doc?.hidden === true) listener()
      }
      win.addEventListener('pagehide', onPageHide)
      doc?.addEventListener('visibilitychange', onVisibility)
      return () => {
        win.removeEventListener('pagehide', onPageHide)
        doc?.removeEventListener('visibilitychange', onVisibility)
      }
    },
  }
}
