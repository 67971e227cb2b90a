/**
 * The `fetch` core uses, injected so tests and servers can script it.
 *
 * Invariants:
 * - F1. Core never calls the global `fetch` directly; `defaultFetch` looks it up at call time, so it works wherever
 *   a standard `fetch` exists (browsers, workers, Node 20) and a test can replace it.
 */

/**
 * The subset of `fetch` the shape client calls.
 * @example
 * const fetch: FetchLike = (url, init) => globalThis.fetch(url, init)
 */
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>

/** The platform `fetch` (F1). */
export const defaultFetch: FetchLike = (url, init) => globalThis.fetch(url, init)
