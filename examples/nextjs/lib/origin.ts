/**
 * The origin the browser used to reach this app, read from the request headers on the server.
 *
 * Invariant:
 * - O1. Only a syntactically plain `host[:port]` is accepted; anything else falls back to `fallback`. The value is
 *   only ever handed back to that same browser as a URL to fetch: the server never fetches it (its prefetch
 *   calls the shape handler in-process), so a forged `Host` cannot make the server reach another machine.
 */

const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i

/** Minimal view of `headers()` from `next/headers`. */
export interface HeaderSource {
  get(name: string): string | null
}

/**
 * `proto://host[:port]` of the current request, honouring the first `x-forwarded-*` value behind a proxy (O1).
 *
 * @example
 * const origin = requestOrigin(await headers(), 'http://127.0.0.1:3100')
 */
export function requestOrigin(headers: HeaderSource, fallback: string): string {
  const host = first(headers.get('x-forwarded-host')) ?? first(headers.get('host'))
  const proto = first(headers.get('x-forwarded-proto')) === 'https' ? 'https' : 'http'
  return host !== undefined && HOST.test(host) ? `${proto}://${host}` : fallback
}

function first(value: string | null): string | undefined {
  const part = value?.split(',')[0]?.trim()
  return part === undefined || part === '' ? undefined : part
}

/**
 * Where this server answers on the loopback address (`PORT`, default 3100): what a server-side client fetches, so
 * the request's `Host` never chooses the machine the server connects to (O1).
 *
 * @example
 * localOrigin() // 'http://127.0.0.1:3100'
 */
export function localOrigin(): string {
  const port = Number(process.env['PORT'] ?? 3100)
  return `http://127.0.0.1:${Number.isInteger(port) && port > 0 && port < 65_536 ? port : 3100}`
}
