/**
 * The `fetch` core uses, injected so tests and servers can script it.
 *
 * Invariants:
 * - Core never calls the global `fetch` directly; `defaultFetch` looks it up at call time, so it works wherever
 *   a standard `fetch` exists (browsers, workers, Node 20) and a test can replace it.
 */

/**
 * A `fetch`-compatible function (the platform one, a test's scripted one, or a wrapper adding auth or tracing).
 * The shape client always passes a URL string and an init with `headers` and `signal`.
 * @example
 * const fetch: FetchLike = (url, init) => globalThis.fetch(url, init)
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** The platform `fetch`. */
export const defaultFetch: FetchLike = (url, init) => globalThis.fetch(url, init)
