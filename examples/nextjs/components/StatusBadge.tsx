'use client'
/**
 * The connection as the shape reports it: phase and live transport (`sse`, or `long-poll` after a fallback), the
 * countdown to the next retry with a Retry button, and `offline`; errors are described without the request URL.
 *
 * Invariant:
 * - The server's HTML and the hydrating render show no status, only "connecting…": a status belongs to the
 *   browser's own connection. On the streamed page the server's shape really did connect (its status is `live`
 *   while the browser's hydrated shape has not started yet), so showing it would make the two renders differ.
 */
import { useEffect, useState, useSyncExternalStore } from 'react'
import { FetchError, useShapeStatus } from 'live-shapes'
import type { Shape, ShapeError } from 'live-shapes'
import type { Item } from '../lib/items'

function subscribeNever(): () => void {
  return () => {}
}

/** False on the server and while hydrating (those renders show no status), true once the browser renders on its own. */
function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  )
}

/** A user-facing sentence for a shape error: never the request URL (that stays in `error.url` for developers). */
function describeError(error: ShapeError): string {
  if (error instanceof FetchError) return error.status === 503 ? 'The server is unavailable.' : `The server answered ${error.status}.`
  if (error.code === 'network') return 'The server could not be reached.'
  return `The live connection failed (${error.code}).`
}

/** Whole seconds until `at`, ticking while there is a retry to wait for. */
function useSecondsUntil(at: number | undefined): number | undefined {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (at === undefined) return undefined
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 250)
    return () => clearInterval(timer)
  }, [at])
  return at === undefined ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

/**
 * A badge such as `live · sse`; while the stream retries, `retrying in 4 s` and a Retry button (`shape.retryNow()`);
 * `offline` when the browser says so. Its title explains a fallback or an error, without URLs.
 */
export function StatusBadge({ shape }: { shape: Shape<Item> | undefined }) {
  const status = useShapeStatus(shape)
  const hydrated = useHydrated()
  const seconds = useSecondsUntil(status.nextRetryAt)
  if (!hydrated) {
    return (
      <span className="badge" data-testid="status" data-phase="hydrating">
        connecting…
      </span>
    )
  }
  const detail = status.error ? describeError(status.error) : status.fallbackReason
  const canRetry = shape !== undefined && (status.phase === 'retrying' || status.phase === 'error')
  return (
    <span className="status-line">
      <span
        className={`badge ${status.phase}`}
        data-testid="status"
        data-phase={status.phase}
        data-transport={status.transport}
        title={detail}
      >
        {status.phase} · {status.transport}
        {status.offline ? ' · offline' : ''}
      </span>
      {seconds !== undefined && (
        <span className="retry-in" data-testid="retry-in">
          retrying in {seconds} s
        </span>
      )}
      {canRetry && (
        <button type="button" className="retry" onClick={() => shape.retryNow()}>
          Retry now
        </button>
      )}
    </span>
  )
}
