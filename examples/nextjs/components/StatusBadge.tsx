'use client'
/**
 * The connection as the shape reports it: phase and live transport (`sse`, or `long-poll` after a fallback).
 *
 * Invariant:
 * - B1. The server's HTML and the hydrating render show no status, only "connecting…": a status belongs to the
 *   browser's own connection. On the streamed page the server's shape really did connect (its status is `live`
 *   while the browser's hydrated shape has not started yet), so showing it would make the two renders differ.
 */
import { useSyncExternalStore } from 'react'
import { useShapeStatus } from 'live-shapes'
import type { Shape } from 'live-shapes'
import type { Item } from '../lib/items'

function subscribeNever(): () => void {
  return () => {}
}

/** False on the server and while hydrating, true once the browser renders on its own (B1). */
function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  )
}

/** A badge such as `live · sse`; its title explains a fallback or an error. */
export function StatusBadge({ shape }: { shape: Shape<Item> | undefined }) {
  const status = useShapeStatus(shape)
  const hydrated = useHydrated()
  if (!hydrated) {
    return (
      <span className="badge" data-testid="status" data-phase="hydrating">
        connecting…
      </span>
    )
  }
  const detail = status.error?.message ?? status.fallbackReason
  return (
    <span
      className={`badge ${status.phase}`}
      data-testid="status"
      data-phase={status.phase}
      data-transport={status.transport}
      title={detail}
    >
      {status.phase} · {status.transport}
    </span>
  )
}
