/**
 * The store as a shape's stream sees it: the `ShapeStore` itself until the shape loads its first subset snapshot,
 * then the store behind that snapshot's merge rules (snapshotMerge.ts, loaded with the subset code on first use, so
 * apps that never load subsets ship only this pass-through).
 *
 * Invariants:
 * - Every change the stream applies or stages passes the installed filter first (when there is one); what it
 *   drops never reaches the store.
 * - The txids of the changes a filter drops still reach the store (`noteTxids`), so a write confirmed only by a dropped
 *   change is confirmed all the same.
 * - The sink knows when a response is being staged (between the first `stage` and `settleStaged`): work that
 *   must not run then (a batch, which the store refuses while staging, see shapeStore.ts) waits in `whenSettled`
 *   and runs at the next point where the store takes batches.
 * - `generation` bumps on every reset (a 409): work started in another generation knows its rows belong to a
 *   shape log that no longer exists.
 */
import type { Message } from './protocol'
import type { StreamSink } from './responseApplier'
import type { ShapeStore } from './shapeStore'

/**
 * What a sink runs messages through once installed (the subset snapshot merge).
 * @example
 * sink.install({ filter: (messages) => messages.filter(keep), reset: () => forget() })
 */
export interface SinkFilter<T> {
  filter(messages: readonly Message<T>[]): readonly Message<T>[]
  /** The txids of the changes the last `filter` dropped (their rows already hold them), handed over once. */
  takeHeldTxids?(): readonly number[]
  reset(): void
}

/**
 * A `StreamSink` over a `ShapeStore` with a pluggable filter.
 * @example
 * const sink = new SnapshotSink(store); new ShapeStream({ ...options, store: sink })
 */
export class SnapshotSink<T> implements StreamSink<T> {
  readonly store: ShapeStore<T>
  readonly #waiting: Array<() => void> = []
  #filter: SinkFilter<T> | undefined
  #staging = false
  #generation = 0

  constructor(store: ShapeStore<T>) {
    this.store = store
  }

  /** Bumps on every reset. */
  get generation(): number {
    return this.#generation
  }

  /** Runs every later message through `filter`. */
  install(filter: SinkFilter<T>): void {
    this.#filter = filter
  }

  /** Runs `work` now, or once the response being staged has settled. */
  whenSettled(work: () => void): void {
    if (this.#staging) this.#waiting.push(work)
    else work()
  }

  applyBatch(messages: readonly Message<T>[]): void {
    const kept = this.#filter ? this.#filter.filter(messages) : messages
    // Before the batch, so its publish confirms the writes of the changes dropped from it.
    this.#noteHeld()
    this.store.applyBatch(kept)
    this.#drain()
  }

  stage(messages: readonly Message<T>[]): void {
    this.#staging = true
    this.store.stage(this.#filter ? this.#filter.filter(messages) : messages)
    // After the stage began, so a reverted response takes them back with its rows.
    this.#noteHeld()
  }

  #noteHeld(): void {
    const held = this.#filter?.takeHeldTxids?.()
    if (held !== undefined && held.length > 0) this.store.noteTxids(held)
  }

  settleStaged(keep: boolean): void {
    this.store.settleStaged(keep)
    this.#staging = false
    // A kept staged response is applied by the `applyBatch` that follows; a reverted one leaves nothing pending.
    if (!keep) this.#drain()
  }

  reset(): void {
    this.#generation++
    this.#filter?.reset()
    this.store.reset()
  }

  #drain(): void {
    if (this.#staging) return
    for (const work of this.#waiting.splice(0)) work()
  }
}
