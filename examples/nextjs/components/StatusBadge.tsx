'use client'
/**
 * The connection as the shape reports it: phase and live transport (`sse`, or `long-poll` after a fallback).
 */
import { useShapeStatus } from 'live-shapes'
import type { Shape } from 'live-shapes'
import type { Item } from '../lib/items'

/** A badge such as `live · sse`; its title explains a fallback or an error. */
export function StatusBadge({ shape }: { shape: Shape<Item> | undefined }) {
  const status = useShapeStatus(shape)
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
