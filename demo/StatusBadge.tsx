/**
 * The shape's connection as a user sees it: phase, `offline` when the browser says so, transport, why SSE fell back,
 * the last error (its code and HTTP status, never the request URL), a countdown to the next retry (`nextRetryAt`)
 * and, for `retrying` and `error`, a Retry button calling `shape.retryNow()`. The demo page and the stories show this
 * same badge.
 *
 * Invariants:
 * - Every field is rendered as text in its own `data-testid` element, so tests read what a user reads.
 * - No URL is ever rendered: messages from the server are shown with any URL in them elided.
 */
import { useEffect, useState } from 'react'
import type { ReactNode } from 'react'
import { FetchError, ShapeRequestError, useRetainedShape, useShapeStatus } from '../src/index'
import type { Row, ShapeError, ShapeOrOptions } from '../src/index'

/** A user-facing sentence for a shape error: the server's own words for a 400, otherwise what happened. */
export function describeError(error: ShapeError): string {
  if (error instanceof ShapeRequestError) return withoutUrls(error.message)
  if (error instanceof FetchError) return error.status === 503 ? 'The server is unavailable.' : 'The server refused the request.'
  if (error.code === 'network') return 'The server could not be reached.'
  return `The shape stream failed (${error.code}).`
}

/** `text` with every URL (absolute, or a path with a query) replaced by an ellipsis. */
function withoutUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '…').replace(/\/[\w./-]*\?\S*/g, '…')
}

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

/** Props of `StatusBadge`. */
export interface StatusBadgeProps<T> {
  /** The shape (e.g. `useShape(...).shape`) or options describing it; the badge holds its stream while mounted. */
  source: ShapeOrOptions<T> | undefined
}

/**
 * The status badge of a shape.
 * @example
 * <StatusBadge source={shape} />
 */
export function StatusBadge<T = Row>({ source }: StatusBadgeProps<T>): ReactNode {
  const shape = useRetainedShape(source)
  const status = useShapeStatus(shape)
  const seconds = useSecondsUntil(status.nextRetryAt)
  const { error } = status
  const canRetry = shape !== undefined && (status.phase === 'retrying' || status.phase === 'error')
  return (
    <section className="status" aria-label="Shape status">
      <span className={`badge phase-${status.phase}`} data-testid="status-phase">
        {status.phase}
      </span>
      {status.offline && (
        <span className="badge offline" data-testid="status-offline">
          offline
        </span>
      )}
      <span>
        via <strong data-testid="status-transport">{status.transport}</strong>
      </span>
      <span className="muted" data-testid="status-up-to-date">
        {status.isUpToDate ? (status.phase === 'live' ? 'up to date' : 'showing the last synced rows') : 'not up to date'}
      </span>
      {status.fallbackReason !== undefined && (
        <span className="note" data-testid="status-fallback">
          fell back to long-polling: {status.fallbackReason}
        </span>
      )}
      {error !== undefined && (
        <span className="error" role="alert" data-testid="status-error">
          <code data-testid="status-error-code">{error.code}</code>
          {error instanceof FetchError && (
            <>
              {' '}
              HTTP <span data-testid="status-error-http">{error.status}</span>
            </>
          )}{' '}
          <span data-testid="status-error-message">{describeError(error)}</span>
        </span>
      )}
      {seconds !== undefined && (
        <span data-testid="status-retry">
          retrying in <strong>{seconds}</strong> s
        </span>
      )}
      {canRetry && (
        <button type="button" onClick={() => shape.retryNow()}>
          Retry now
        </button>
      )}
    </section>
  )
}
