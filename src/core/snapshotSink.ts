/**
 * The store as a shape's stream sees it once subset snapshots can be loaded into the shape: live changes a loaded
 * snapshot already holds are dropped (snapshotTracker.ts), and a snapshot's rows enter the store at a point where
 * they are the newest version of each row.
 *
 * Invariants:
 * - SK1. Every change the stream applies or stages passes `SnapshotTracker.holds` first; what it holds never reaches
 *   the store, so a row is never rewound to an older version by a change the snapshot already contained.
 * - SK2. While a snapshot request is in flight, the keys of the changes applied meanwhile are recorded with their
 *   transactions. A snapshot row is written only when no such change is newer than the snapshot (a transaction not
 *   visible in it, or a change without `txids`): a row changed after the snapshot was taken keeps its newer version.
 * - SK3. Snapshot rows are applied as one batch ending with `up-to-date` (so they are published at once), never
 *   while a response is being staged (the store refuses batches then, shapeStore.ts S8): they wait for the staged
 *   response to settle.
 * - SK4. A 409 (`reset`) forgets every tracked snapshot and fails the snapshots in flight with `SnapshotResetError`
 *   semantics (`generation` changes): their rows belong to a shape log that no longer exists.
 */
import type { ChangeMessage, Message } from './protocol'
import { isChangeMessage } from './protocol'
import type { StreamSink } from './responseApplier'
import type { ShapeStore } from './shapeStore'
import type { SnapshotMetadata } from './snapshotTracker'
import { isVisibleIn, SnapshotTracker, xid8Near } from './snapshotTracker'

/** Changes applied while one snapshot request was in flight: key → the transactions that changed it (SK2). */
type InFlight = Map<string, Array<readonly number[] | undefined>>

/**
 * A `StreamSink` over a `ShapeStore` that merges subset snapshots with live changes (SK1–SK4).
 * @example
 * const sink = new SnapshotSink(store); new ShapeStream({ ...options, store: sink })
 */
export class SnapshotSink<T> implements StreamSink<T> {
  readonly #store: ShapeStore<T>
  readonly #tracker = new SnapshotTracker()
  readonly #inFlight = new Set<InFlight>()
  readonly #waiting: Array<() => void> = []
  #staging = false
  #generation = 0

  constructor(store: ShapeStore<T>) {
    this.#store = store
  }

  /** Bumps on every reset: a snapshot started in another generation must not be applied (SK4). */
  get generation(): number {
    return this.#generation
  }

  applyBatch(messages: readonly Message<T>[]): void {
    this.#store.applyBatch(this.#filter(messages))
    this.#drain()
  }

  stage(messages: readonly Message<T>[]): void {
    this.#staging = true
    this.#store.stage(this.#filter(messages))
  }

  settleStaged(keep: boolean): void {
    this.#store.settleStaged(keep)
    this.#staging = false
    // A kept staged response is applied by the `applyBatch` that follows; a reverted one leaves nothing pending.
    if (!keep) this.#drain()
  }

  reset(): void {
    this.#generation++
    this.#tracker.clear()
    this.#store.reset()
  }

  /**
   * Starts recording the changes applied from now on (SK2); the returned function stops it and says which keys may
   * take a row from a snapshot with `metadata`.
   */
  begin(): { readonly generation: number; readonly writable: (metadata: SnapshotMetadata, key: string) => boolean; end(): void } {
    const changed: InFlight = new Map()
    this.#inFlight.add(changed)
    return {
      generation: this.#generation,
      writable: (metadata, key) => {
        const changes = changed.get(key)
        if (changes === undefined) return true
        const bounds = { xmin: BigInt(metadata.xmin), xmax: BigInt(metadata.xmax), xip: new Set(metadata.xip_list.map((xid) => BigInt(xid))) }
        return changes.every(
          (txids) => txids !== undefined && txids.length > 0 && txids.every((xid) => isVisibleIn(xid8Near(xid, bounds.xmax), bounds)),
        )
      },
      end: () => void this.#inFlight.delete(changed),
    }
  }

  /**
   * Writes a snapshot's rows and tracks it (SK1–SK3), as soon as no response is being staged. Resolves `false`
   * when a reset happened since `generation` (SK4).
   */
  load(generation: number, metadata: SnapshotMetadata, rows: readonly ChangeMessage<T>[]): Promise<boolean> {
    return new Promise((resolve) => {
      const apply = (): void => {
        if (generation !== this.#generation) {
          resolve(false)
          return
        }
        const messages: Message<T>[] = [...rows]
        if (this.#store.getSnapshot().isUpToDate) messages.push({ headers: { control: 'up-to-date' } })
        this.#store.applyBatch(messages)
        this.#tracker.add(metadata, new Set(rows.map((row) => row.key)))
        resolve(true)
      }
      if (this.#staging) this.#waiting.push(apply)
      else apply()
    })
  }

  #filter(messages: readonly Message<T>[]): readonly Message<T>[] {
    if (this.#tracker.size === 0 && this.#inFlight.size === 0) return messages
    const kept: Message<T>[] = []
    for (const message of messages) {
      if (isChangeMessage(message)) {
        if (this.#tracker.size > 0 && this.#tracker.holds(message as ChangeMessage<unknown>)) continue
        for (const changed of this.#inFlight) {
          const list = changed.get(message.key) ?? []
          list.push(message.headers.txids)
          changed.set(message.key, list)
        }
      }
      kept.push(message)
    }
    return kept
  }

  #drain(): void {
    if (this.#staging) return
    for (const apply of this.#waiting.splice(0)) apply()
  }
}
