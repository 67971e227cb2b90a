/**
 * Cooperative yielding: long synchronous work (reading a snapshot body, parsing and staging its rows) runs in slices,
 * and the main thread gets a turn between slices, so a large sync never blocks a frame or an input.
 *
 * Invariants:
 * - A yielder only measures and waits: it never runs the work itself, so where it may pause is decided by its caller,
 *   between units that leave everything consistent (a staged group is undoable and never published; see
 *   shapeStore.ts on staging).
 * - `due()` is true once the current slice ran for `sliceMs` since it started; a slice starts at `start()` (the caller
 *   knows a task began: the first bytes of a body arrived after a wait) and whenever a `yield()` resolves. `yield()` always resolves in a later macrotask (never a microtask: a
 *   microtask would not let the browser paint or handle input).
 * - `neverYield` is never due: the work runs as one task, exactly as without a yielder (tests that want no
 *   scheduling at all inject it; tests that want to see the slices inject their own `schedule` and `now`).
 */

/** Decides when long work should pause and lets the event loop run before it goes on. */
export interface Yielder {
  /** Starts a slice now: the caller begins work in a fresh task (e.g. after awaiting a response). */
  start(): void
  /** True when the current slice has used its time budget: the caller should `await yield()` before more work. */
  due(): boolean
  /** Resolves in a later task; a new slice starts then. */
  yield(): Promise<void>
}

/** Options of `createYielder`. */
export interface YielderOptions {
  /** Time budget of one slice in ms (default 5: a slice plus one piece of work and a young-generation GC stay under a 16 ms frame). */
  sliceMs?: number
  /** A monotonic clock in ms (default `performance.now`, else `Date.now`). */
  now?: () => number
  /**
   * Resolves in a later macrotask (default: `scheduler.postTask` at `user-visible` priority, `MessageChannel`,
   * `setImmediate` or `setTimeout(0)`, the first that exists).
   */
  schedule?: () => Promise<void>
}

const DEFAULT_SLICE_MS = 5

/**
 * A yielder over the platform's scheduling, or over injected `now`/`schedule`.
 * @example
 * const yielder = createYielder()
 * for (const piece of pieces) {
 *   if (yielder.due()) await yielder.yield()
 *   work(piece)
 * }
 */
export function createYielder(options: YielderOptions = {}): Yielder {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS
  const now = options.now ?? defaultNow()
  const schedule = options.schedule ?? platformSchedule()
  let sliceStart = now()
  return {
    start: () => {
      sliceStart = now()
    },
    due: () => now() - sliceStart >= sliceMs,
    yield: async () => {
      await schedule()
      sliceStart = now()
    },
  }
}

/** A yielder that is never due: work runs in one task. */
export const neverYield: Yielder = Object.freeze({
  start: () => undefined,
  due: () => false,
  yield: () => Promise.resolve(),
})

function defaultNow(): () => number {
  const performance = (globalThis as { performance?: { now(): number } }).performance
  return performance !== undefined && typeof performance.now === 'function' ? () => performance.now() : () => Date.now()
}

interface PlatformScheduling {
  scheduler?: { postTask?: (callback: () => void, options: { priority: 'user-visible' }) => Promise<void> }
  setImmediate?: (callback: () => void) => unknown
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close(): void }; port2: { postMessage(value: unknown): void; close(): void } }
  setTimeout: (callback: () => void, ms: number) => unknown
}

/**
 * The first macrotask scheduler the platform has, looked up on every call (fake timers installed later still
 * apply). `scheduler.postTask` at `user-visible` priority queues the next slice as an ordinary task, so the browser
 * renders between slices at its frame rate; not `scheduler.yield`, whose continuations Chromium runs ahead of
 * rendering until rendering has waited about 100 ms (measured in Chromium during a 100k-row sync: the longest gap
 * between animation frames was 114 ms with `scheduler.yield`, 28 ms with `postTask`; bench/RESULTS.md, #16). A
 * `MessageChannel` message is not clamped like a nested `setTimeout(0)` and is not faked by test fake timers (a sync
 * never hangs on a timer nobody advances); `setImmediate` and `setTimeout(0)` serve runtimes without either.
 */
function platformSchedule(): () => Promise<void> {
  return () => {
    const platform = globalThis as unknown as PlatformScheduling
    const scheduler = platform.scheduler
    if (scheduler !== undefined && typeof scheduler.postTask === 'function') {
      return scheduler.postTask(() => undefined, { priority: 'user-visible' })
    }
    return new Promise<void>((resolve) => {
      if (typeof platform.MessageChannel === 'function') {
        const channel = new platform.MessageChannel()
        channel.port1.onmessage = () => {
          channel.port1.close()
          channel.port2.close()
          resolve()
        }
        channel.port2.postMessage(undefined)
      } else if (typeof platform.setImmediate === 'function') {
        platform.setImmediate(resolve)
      } else {
        platform.setTimeout(resolve, 0)
      }
    })
  }
}
