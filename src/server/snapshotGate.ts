/**
 * A bound on the snapshot queries one handler runs at once, so one client cannot take every database connection.
 *
 * Invariants:
 * - At most `maxConcurrent` tasks run at a time; the others wait in a FIFO queue of at most `maxQueued`. A task
 *   that finds the queue full is refused at once with {@link SnapshotGateFullError} (the handler answers 503 with
 *   `retry-after`), so a burst never builds an unbounded queue and a new shape waits behind at most `maxQueued`
 *   others.
 * - A task whose signal aborts while queued leaves the queue at once and rejects with the signal's reason; it
 *   never runs. A running task is handed its signal and must stop on it (the sources cancel their query); its slot
 *   is freed when it settles, whatever the outcome.
 * - `running` and `queued` are exact at every moment (they are what `stats()` reports).
 */

/** The queue of snapshot queries is full: retry later. */
export class SnapshotGateFullError extends Error {
  readonly code = 'snapshot-queue-full' as const
  constructor(maxQueued: number) {
    super(`Too many snapshot queries waiting (at most ${maxQueued}); retry later`)
    this.name = 'SnapshotGateFullError'
  }
}

export interface SnapshotGateOptions {
  maxConcurrent: number
  maxQueued: number
}

interface Waiter {
  start: () => void
}

export class SnapshotGate {
  readonly #options: SnapshotGateOptions
  readonly #queue: Waiter[] = []
  #running = 0

  constructor(options: SnapshotGateOptions) {
    if (!(options.maxConcurrent >= 1)) throw new RangeError(`maxConcurrent must be at least 1, got ${options.maxConcurrent}`)
    if (!(options.maxQueued >= 0)) throw new RangeError(`maxQueued must be at least 0, got ${options.maxQueued}`)
    this.#options = options
  }

  get running(): number {
    return this.#running
  }

  get queued(): number {
    return this.#queue.length
  }

  /**
   * Runs `task` when a slot is free.
   * @example
   * const snapshot = await gate.run(request.signal, (signal) => source.snapshot({ ...query, signal }))
   */
  async run<T>(signal: AbortSignal | undefined, task: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw abortReason(signal)
    // A finishing task hands its slot straight to the first waiter, so no newcomer can slip in between.
    if (this.#running >= this.#options.maxConcurrent) await this.#wait(signal)
    else this.#running += 1
    try {
      return await task(signal)
    } finally {
      const next = this.#queue.shift()
      if (next !== undefined) next.start()
      else this.#running -= 1
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.#queue.length >= this.#options.maxQueued) return Promise.reject(new SnapshotGateFullError(this.#options.maxQueued))
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#queue.indexOf(waiter)
        if (index >= 0) this.#queue.splice(index, 1)
        reject(abortReason(signal as AbortSignal))
      }
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.#queue.push(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}
