/**
 * Platform adapters a test drives by hand: connectivity (`online` / `offline` / `focus`) and page visibility. Each
 * shows what the stream left subscribed, so a test can check nothing outlives it.
 */
import type { ConnectivityAdapter, ConnectivityChange } from '../../../src/core/connectivity'
import type { VisibilityAdapter } from '../../../src/core/visibility'

/** A connectivity adapter whose `emit` fires a change (and moves `isOnline` for `online` / `offline`). */
export function fakeConnectivity(online: boolean | undefined = true) {
  const listeners = new Set<(change: ConnectivityChange) => void>()
  let state = online
  const adapter: ConnectivityAdapter = {
    isOnline: () => state,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return {
    adapter,
    emit(change: ConnectivityChange) {
      if (change === 'online') state = true
      if (change === 'offline') state = false
      for (const listener of [...listeners]) listener(change)
    },
    get listeners() {
      return listeners.size
    },
  }
}

/** A visibility adapter a test flips by hand with `setHidden`. */
export function fakeVisibility() {
  let hidden = false
  const listeners = new Set<() => void>()
  const visibility: VisibilityAdapter = {
    isHidden: () => hidden,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  const setHidden = (value: boolean): void => {
    hidden = value
    for (const listener of [...listeners]) listener()
  }
  return { visibility, setHidden, listeners }
}
