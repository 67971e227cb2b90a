/**
 * The vocabulary of the fault proxy (`faultProxy.ts`): what can go wrong with a request, which requests a fault may
 * hit, and the running proxy's interface.
 */
/** What can go wrong with one request. */
export type FaultKind =
  /** The connection dies before any response. */
  | 'drop'
  /** 500, 502, 503 or 504 without `retry-after`. */
  | 'server-error'
  /** 503 with `retry-after` (0 or 1 second). */
  | 'retry-after'
  /** The shape is deleted upstream, then the request forwarded: the server answers 409 itself. */
  | 'conflict'
  /** Nothing for `ms`, then the connection dies. */
  | 'stall'
  /** Nothing until the client gives up (or the proxy closes). */
  | 'hang'
  /** The upstream's status and headers, then silence until the client gives up (a stream that went quiet). */
  | 'silence'
  /** Forwarded after `ms`. */
  | 'delay'
  /** Headers and part of the body, then the connection dies (mid-event for SSE). */
  | 'cut'
  /** Headers and part of the body, then a clean end. */
  | 'truncate'
  /** Status and headers of the upstream, a body that is not valid JSON / not valid events. */
  | 'malformed'
  /** An earlier upstream response for the same cache key (see the replay rule), without asking upstream. */
  | 'replay'
  /** SSE held until the upstream ends, then sent at once (a buffering proxy). */
  | 'sse-buffer'

/** Which requests a fault may hit. */
export type FaultTarget = 'any' | 'initial' | 'refetch' | 'catch-up' | 'live' | 'sse' | 'with-handle'

/** One fault to inject; unset fields are drawn from the proxy's seeded random. */
export interface FaultSpec {
  kind: FaultKind
  target?: FaultTarget
  /** Stall / delay duration. */
  ms?: number
  /** Where a cut or truncation happens, as a fraction of the body (or of the first four SSE events). */
  fraction?: number
}

/** How a request went through the proxy. */
export interface ProxyRecord {
  readonly url: string
  readonly kind: FaultKind | 'pass'
  /** The fault could not apply (no handle to delete, nothing to replay) and the request was forwarded. */
  readonly missed: boolean
  readonly status: number | undefined
}

/** Random faults on requests no armed fault claims. */
export interface ChaosOptions {
  /** Probability that a shape GET is offered a fault. */
  rate: number
  /** One is drawn per offer; it applies when the request matches its target. */
  faults: readonly FaultSpec[]
}

export interface FaultProxyOptions {
  /** `http://host:port` of the dev server; may be changed later through `upstream`. */
  upstream: string
  /** Seeded uniform [0, 1). */
  random: () => number
  /** Longest stall / delay when a spec leaves `ms` unset, default 400. */
  maxStallMs?: number
  /** Extra query parameters of the DELETE that provokes a 409 (e.g. a secret). */
  deleteParams?: Record<string, string>
}

export interface FaultProxy {
  /** `http://127.0.0.1:port`, no trailing slash. */
  readonly url: string
  upstream: string
  chaos: ChaosOptions | undefined
  /** Replaces the proxy's random with a seeded one (each case reseeds, so a seed replays the same fault draws). */
  reseed(seed: number): void
  /** Queues `spec` for the next matching request. */
  arm(spec: FaultSpec): void
  /** Drops every armed fault and stops chaos. */
  calm(): void
  readonly armed: number
  /** Resolves once every armed fault was claimed by a request. */
  waitUntilClaimed(): Promise<void>
  /** Requests whose response is over (completed, cut or abandoned). */
  readonly finished: number
  /** Resolves once `finished >= count`. */
  waitForFinished(count: number): Promise<void>
  /** Counts per applied fault kind (and `pass`). */
  readonly counts: Readonly<Record<string, number>>
  /** The last 500 records. */
  readonly records: readonly ProxyRecord[]
  /** Per injected `retry-after`: what it asked, how long until the shape was asked again, the query it answered. */
  readonly retryAfterGaps: readonly { expectedMs: number; waitedMs: number; query: string }[]
  readonly openSockets: number
  readonly pendingTimers: number
  close(): Promise<void>
}
