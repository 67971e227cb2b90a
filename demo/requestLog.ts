/**
 * The requests a `ShapeClient` makes, recorded by a `fetch` wrapper injected into it (the client's `fetch` option),
 * as the demo's request panel shows them: what kind of request, from which offset, and how it ended.
 *
 * Invariant: entries hold the parsed protocol fields only, never the raw URL, so nothing the page shows leaks one.
 */
import type { FetchLike } from '../src/index'

/** What a shape request asks for, read from its query string. */
export type RequestKind = 'snapshot' | 'catch-up' | 'long-poll' | 'sse'

/** One recorded request. */
export interface RequestEntry {
  readonly id: number
  readonly startedAt: number
  readonly kind: RequestKind
  readonly offset: string
  readonly handle: string | undefined
  /** HTTP status, `pending` while held, `aborted` when the client gave up on it, `network` when it never arrived. */
  readonly outcome: number | 'pending' | 'aborted' | 'network'
  readonly durationMs: number | undefined
}

/** A request log: an observable list of the latest entries, newest first. */
export interface RequestLog {
  readonly fetch: FetchLike
  subscribe(listener: () => void): () => void
  getSnapshot(): readonly RequestEntry[]
  clear(): void
}

/** The kind of a shape request, from its query string. */
export function kindOf(params: URLSearchParams): RequestKind {
  if (params.get('live') === 'true') return params.get('live_sse') === 'true' || params.get('experimental_live_sse') === 'true' ? 'sse' : 'long-poll'
  return params.get('offset') === '-1' ? 'snapshot' : 'catch-up'
}

/**
 * Wraps `inner` (default: the platform `fetch`) and records every request it sees.
 * @example
 * const log = createRequestLog()
 * const client = new ShapeClient({ fetch: log.fetch })
 */
export function createRequestLog(inner: FetchLike = (url, init) => globalThis.fetch(url, init), max = 40): RequestLog {
  let entries: readonly RequestEntry[] = []
  let nextId = 1
  const listeners = new Set<() => void>()
  const emit = (): void => listeners.forEach((listener) => listener())
  const settle = (id: number, outcome: RequestEntry['outcome']): void => {
    entries = entries.map((entry) =>
      entry.id === id ? { ...entry, outcome, durationMs: Math.round(performance.now() - entry.startedAt) } : entry,
    )
    emit()
  }
  const recordingFetch: FetchLike = async (input, init) => {
    const params = new URL(input, window.location.href).searchParams
    const id = nextId++
    entries = [
      {
        id,
        startedAt: performance.now(),
        kind: kindOf(params),
        offset: params.get('offset') ?? '-1',
        handle: params.get('handle') ?? undefined,
        outcome: 'pending' as const,
        durationMs: undefined,
      },
      ...entries,
    ].slice(0, max)
    emit()
    try {
      const response = await inner(input, init)
      settle(id, response.status)
      return response
    } catch (error) {
      settle(id, init.signal?.aborted ? 'aborted' : 'network')
      throw error
    }
  }
  return {
    fetch: recordingFetch,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    getSnapshot: () => entries,
    clear() {
      entries = []
      emit()
    },
  }
}
