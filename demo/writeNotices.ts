/**
 * The page's last rolled-back write, as a tiny external store: rows and the form report a refused write here, and
 * only the component that shows the message re-renders (never the table or its rows).
 */

/** A rolled-back write: what was tried and why it was refused. */
export interface WriteNotice {
  readonly id: number
  readonly message: string
}

/** The store. */
export interface WriteNotices {
  /** Reports a rolled-back write (`what` names it, `error` is the commit's error). */
  rolledBack: (what: string, error: unknown) => void
  clear: () => void
  subscribe: (listener: () => void) => () => void
  getSnapshot: () => WriteNotice | undefined
}

/**
 * Creates the store.
 * @example
 * const notices = createWriteNotices()
 * notices.rolledBack('Adding "x"', new Error('refused'))
 */
export function createWriteNotices(): WriteNotices {
  let current: WriteNotice | undefined
  let sequence = 0
  const listeners = new Set<() => void>()
  const set = (next: WriteNotice | undefined): void => {
    current = next
    for (const listener of [...listeners]) listener()
  }
  return {
    rolledBack: (what, error) =>
      set({ id: ++sequence, message: `${what} rolled back: ${error instanceof Error ? error.message : String(error)}` }),
    clear: () => set(undefined),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    getSnapshot: () => current,
  }
}
