/**
 * Test helpers for SSE bodies: streams whose chunking and timing the test drives, and a scripted shape server.
 * Shared by test/core and test/jsdom; nothing here uses Node-only APIs.
 */

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

/** A body the test writes to by hand; `cancelled` resolves with the reason when the reader cancels it. */
export interface ControlledStream {
  stream: ReadableStream<Uint8Array>
  push(text: string): void
  close(): void
  error(reason: unknown): void
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
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel(reason) {
      cancelledFlag = true
      resolveCancelled(reason)
    },
  })
  return {
    stream,
    push: (text) => controller.enqueue(bytes(text)),
    close: () => controller.close(),
    error: (reason) => controller.error(reason),
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
