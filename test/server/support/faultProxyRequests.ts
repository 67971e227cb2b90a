/**
 * How the fault proxy (`faultProxy.ts`) reads a request: which fault targets it is, its replay key, the shape it is
 * about; plus the headers it may forward, the garbage it may send, and its seeded randomness.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { FaultTarget } from './faultProxyTypes'

export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'content-length'])
export const MALFORMED_JSON = ['[{"headers":{"operation":"insert"},"key":"x","value":{', '<html><body>502 Bad Gateway</body></html>', '[1,2', '']
export const MALFORMED_SSE = ['data: {"headers":{"control":"up-to-da\n\n', 'data: [not json]\n\n', 'event: message\ndata: {"value":\n\n']

/** Request or response headers without hop-by-hop ones and without a length (the proxy may change the body). */
export function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value
  return out
}

/** The kind of a shape request, or `undefined` for anything else. */
export function targetsOf(url: URL, method: string): Set<FaultTarget> | undefined {
  if (method !== 'GET' || !url.pathname.endsWith('/v1/shape')) return undefined
  const params = url.searchParams
  const targets = new Set<FaultTarget>(['any'])
  if (params.get('offset') === '-1') {
    targets.add('initial')
    if (params.has('expired_handle')) targets.add('refetch')
  } else if (params.get('live') === 'true') targets.add(params.get('live_sse') === 'true' || params.get('experimental_live_sse') === 'true' ? 'sse' : 'live')
  else targets.add('catch-up')
  if (params.has('handle')) targets.add('with-handle')
  return targets
}

/** The replay rule's key (faultProxy.ts): the URL without `cursor`, `expired_handle`, `cache-buster` (and `handle` at `offset=-1`). */
export function replayKey(url: URL): string {
  const params = new URLSearchParams(url.searchParams)
  params.delete('cursor')
  params.delete('expired_handle')
  params.delete('cache-buster')
  // A first request's answer does not depend on a handle it names: caches keyed on the definition serve it to all.
  if (params.get('offset') === '-1') params.delete('handle')
  params.sort()
  return `${url.pathname}?${params.toString()}`
}

/** The shape a request is about: its definition params, whatever the position. */
export function shapeOf(url: URL): string {
  const params = new URLSearchParams()
  for (const name of ['table', 'where', 'params', 'columns', 'replica', 'log']) {
    for (const value of url.searchParams.getAll(name)) params.append(name, value)
  }
  for (const [name, value] of url.searchParams) if (name.startsWith('params[')) params.append(name, value)
  params.sort()
  return params.toString()
}

/**
 * A small seeded PRNG (mulberry32): the proxy's and the client's randomness in a fault case come from the case's seed.
 * @example
 * const random = seededRandom(42)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
