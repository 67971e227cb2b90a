/**
 * Test helpers for SSE bodies: streams whose chunking and timing the test drives, and a scripted shape server.
 * Shared by test/core and test/jsdom; nothing here uses Node-only APIs.
 */

import type { ChangeHeaders, ChangeMessage, UpToDateMessage, WireRow } from '../../src/core/protocol'
import type { FetchLike } from '../../src/core/fetchLike'

const encoder = new TextEncoder()

export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** A body that yields exactly these chunks (strings are UTF-8 encoded) and then closes. */
export function chunkedStream(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(typeof chunk === 'string' ? bytes(chunk) : chunk)
    },
  })
}

/** Splits `text`'s bytes into pieces of `size` bytes (the last may be shorter). */
export function splitBytes(text: string, size: number): Uint8Array[] {
  const all = bytes(text)
  const pieces: Uint8Array[] = []
  for (let at = 0; at < all.length; at += size) pieces.push(all.subarray(at, at + size))
  return pieces
}

/**
 * A body the test writes to by hand. `drained()` resolves once the reader has consumed everything pushed so far and
 * is waiting for more (the stream has no buffer of its own), so a test knows the consumer has seen a chunk.
 * `cancelled` resolves with the reason when the reader cancels the body.
 */
export interface ControlledStream {
  stream: ReadableStream<Uint8Array>
  push(text: string): void
  close(): void
  error(reason: unknown): void
  drained(): Promise<void>
  readonly cancelled: Promise<unknown>
  readonly isCancelled: () => boolean
}

export function controlledStream(): ControlledStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let cancelledFlag = false
  let resolveCancelled!: (reason: unknown) => void
  const cancelled = new Promise<unknown>((resolve) => {
    resolveCancelled = resolve
  })
  let waiting = false
  let endPull: (() => void) | undefined
  let drainWaiters: (() => void)[] = []
  const wake = (): void => {
    waiting = false
    const end = endPull
    endPull = undefined
    end?.()
  }
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      pull() {
        return new Promise<void>((resolve) => {
          endPull = resolve
          waiting = true
          const waiters = drainWaiters
          drainWaiters = []
          for (const waiter of waiters) waiter()
        })
      },
      cancel(reason) {
        cancelledFlag = true
        wake()
        resolveCancelled(reason)
      },
    },
    { highWaterMark: 0 },
  )
  return {
    stream,
    push: (text) => {
      controller.enqueue(bytes(text))
      wake()
    },
    close: () => {
      controller.close()
      wake()
    },
    error: (reason) => {
      controller.error(reason)
      wake()
    },
    drained: () => (waiting ? Promise.resolve() : new Promise<void>((resolve) => drainWaiters.push(resolve))),
    cancelled,
    isCancelled: () => cancelledFlag,
  }
}

/** A promise with its resolver, for event-driven waits. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Counts listeners added to and removed from a signal, to prove nothing stays attached. */
export function trackListeners(signal: AbortSignal): { active: () => number; added: () => number } {
  let added = 0
  let removed = 0
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  const live = new Set<unknown>()
  signal.addEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort' && !live.has(listener)) {
      added++
      live.add(listener)
    }
    add(type, listener as EventListener, options as AddEventListenerOptions)
  }) as typeof signal.addEventListener
  signal.removeEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort' && live.delete(listener)) removed++
    remove(type, listener as EventListener, options as EventListenerOptions)
  }) as typeof signal.removeEventListener
  return { active: () => added - removed, added: () => added }
}

/** Collects everything an async iterable yields. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** One SSE event carrying `message` as JSON. */
export function event(message: unknown): string {
  return `data: ${JSON.stringify(message)}\n\n`
}

/** A live insert as the server sends it. */
export function change(lsn: string, op: number, id: string, extra: Partial<ChangeHeaders> = {}): ChangeMessage<WireRow> {
  return {
    key: `"public"."items"/"${id}"`,
    value: { id, title: `row ${id} @ ${lsn}_${op}` },
    headers: { operation: 'insert', relation: ['public', 'items'], lsn, op_position: op, txids: [Number(lsn)], ...extra },
  }
}

export function upToDate(lsn: string): UpToDateMessage {
  return { headers: { control: 'up-to-date', global_last_seen_lsn: lsn } }
}

/** Headers of a live SSE 200; pass `undefined` for a name to leave it out. */
export function sseHeaders(overrides: Record<string, string | undefined> = {}): Headers {
  const all: Record<string, string | undefined> = {
    'content-type': 'text/event-stream',
    'cache-control': 'public, max-age=59',
    'electric-handle': 'h1',
    'electric-offset': '100_0',
    'electric-cursor': '4000',
    'electric-has-data': 'true',
    ...overrides,
  }
  const headers = new Headers()
  for (const [name, value] of Object.entries(all)) if (value !== undefined) headers.set(name, value)
  return headers
}

export function sseResponse(body: ReadableStream<Uint8Array> | null, overrides: Record<string, string | undefined> = {}): Response {
  return new Response(body, { status: 200, headers: sseHeaders(overrides) })
}

/** A `fetch` that answers each call with the next response (or a function of the request), recording the calls. */
export function scriptedFetch(
  ...answers: readonly (Response | ((url: string, init: RequestInit) => Response | Promise<Response>))[]
): FetchLike & { calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const answer = answers[calls.length]
    calls.push({ url, init })
    if (answer === undefined) throw new Error(`unexpected request ${calls.length}: ${url}`)
    return typeof answer === 'function' ? answer(url, init) : answer
  }
  return Object.assign(fetch, { calls })
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000): { now(): number; advance(ms: number): void } {
  let time = start
  return { now: () => time, advance: (ms) => void (time += ms) }
}
