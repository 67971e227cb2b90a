/**
 * A connection badge over `useShapeStatus`: what a real app would show in a corner.
 *
 * Invariant:
 * - B1. Every field is rendered as text in its own `data-testid` element, so tests read what a user reads.
 */
import type { ReactNode } from 'react'
import { FetchError, useShapeStatus } from '../../src/index'
import type { ShapePhase, ShapeSource } from '../../src/index'
import type { Item } from './storyFixture'

const PHASE_COLOURS: Record<ShapePhase, string> = {
  idle: '#9ca3af',
  connecting: '#f59e0b',
  syncing: '#3b82f6',
  live: '#16a34a',
  paused: '#6b7280',
  refetching: '#8b5cf6',
  retrying: '#ea580c',
  error: '#dc2626',
}

/** Props of `StatusBadge`. */
export interface StatusBadgeProps {
  source: ShapeSource<Item> | undefined
}

/**
 * Phase, transport, fallback reason and last error of a shape (B1).
 * @example
 * <StatusBadge source={itemsShape(fixture.url)} />
 */
export function StatusBadge({ source }: StatusBadgeProps): ReactNode {
  const status = useShapeStatus(source)
  const { error } = status
  return (
    <section aria-label="Shape status" style={{ fontFamily: 'system-ui, sans-serif', fontSize: 13, marginBottom: 12 }}>
      <span
        data-testid="status-phase"
        style={{ background: PHASE_COLOURS[status.phase], color: 'white', borderRadius: 999, padding: '2px 10px', fontWeight: 600 }}
      >
        {status.phase}
      </span>{' '}
      via <strong data-testid="status-transport">{status.transport}</strong>
      {' · '}
      <span data-testid="status-up-to-date">{status.isUpToDate ? 'up to date' : 'not up to date'}</span>
      {status.fallbackReason !== undefined && (
        <p data-testid="status-fallback">Fell back to long-polling: {status.fallbackReason}</p>
      )}
      {error !== undefined && (
        <p role="alert" data-testid="status-error" style={{ color: '#b91c1c' }}>
          <code data-testid="status-error-code">{error.code}</code>
          {error instanceof FetchError && (
            <>
              {' '}
              HTTP <span data-testid="status-error-http">{error.status}</span>
            </>
          )}
          {' — '}
          <span data-testid="status-error-message">{error.message}</span>
          {status.nextRetryAt !== undefined && <> (retrying at {new Date(status.nextRetryAt).toLocaleTimeString()})</>}
        </p>
      )}
    </section>
  )
}
