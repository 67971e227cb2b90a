/**
 * Merging subset snapshots with a shape's live changes (installed on the shape's `SnapshotSink` by the first
 * `requestSnapshot`): live changes a loaded snapshot already holds are dropped (snapshotTracker.ts), and a
 * snapshot's rows enter the store where they are the newest version of each row.
 *
 * Invariants:
 * - Every change the stream applies or stages passes `SnapshotTracker.holds` first; what it holds never reaches
 *   the store, so a row is never rewound to an older version by a change the snapshot already contained.
 * - While a snapshot request is in flight, the changes applied meanwhile are recorded by key, in order. A snapshot
 *   row is written with those of its key that are newer than the snapshot (a transaction not visible in it, or a
 *   change without `txids`) replayed over it, in order (an update merged, an insert replacing, a delete dropping the
 *   row): a row changed after the snapshot was taken keeps its newer version, and a partial update (replica default)
 *   of a row the store did not hold yet (a `changes_only` store drops those, shapeStore.ts) is not lost.
 * - Snapshot rows are applied as one batch ending with `up-to-date` when the store is up to date (so they are
 *   published at once), never while a response is being staged (see snapshotSink.ts: work the store refuses while
 *   staging waits in `whenSettled`).
 * - A 409 (`reset`) forgets every tracked snapshot, and a snapshot started in an earlier generation is not
 *   applied (`load` resolves `false`): its rows belong to a shape log that no longer exists.
 */
import type { ChangeMessage, Message } from './protocol'
import { isChangeMessage } from './protocol'
import type { SinkFilter, SnapshotSink } from './snapshotSink'
import type { SnapshotMetadata } from './snapshotTracker'
import { isVisibleIn, SnapshotTracker, xid8Near } from './snapshotTracker'

/** Changes applied while one snapshot request was in flight: key → its changes, in order. */
type InFlight<T> = Map<string, ChangeMessage<T>[]>

/** One snapshot request in flight, with the generation it started in. */
export interface SnapshotRecording<T> {
  readonly generation: number
  /**
   * The row to write for a snapshot row taken at `metadata`: itself with the newer changes of its key replayed over
   * it; `undefined` when one of them deleted it.
   */
  rowFor(metadata: SnapshotMetadata, row: ChangeMessage<T>): ChangeMessage<T> | undefined
  end(): void
}

/**
 * The merge rules of one shape's subset snapshots, installed on its sink.
 * @example
 * const merge = new SnapshotMerge(sink); const recording = merge.begin(); await merge.load(recording.generation, metadata, rows)
 */
export class SnapshotMerge<T> implements SinkFilter<T> {
  readonly #sink: SnapshotSink<T>
  readonly #tracker = new SnapshotTracker()
  readonly #inFlight = new Set<InFlight<T>>()
  #held: number[] = []

  constructor(sink: SnapshotSink<T>) {
    this.#sink = sink
    sink.install(this)
  }

  filter(messages: readonly Message<T>[]): readonly Message<T>[] {
    if (this.#tracker.size === 0 && this.#inFlight.size === 0) return messages
    const kept: Message<T>[] = []
    for (const message of messages) {
      if (isChangeMessage(message)) {
        if (this.#tracker.size > 0 && this.#tracker.holds(message as ChangeMessage<unknown>)) {
          // Dropped, but its transaction happened: a write waiting for it must still be confirmed.
          for (const txid of message.headers.txids ?? []) this.#held.push(txid)
          continue
        }
        for (const changed of this.#inFlight) {
          const list = changed.get(message.key)
          if (list === undefined) changed.set(message.key, [message])
          else list.push(message)
        }
      }
      kept.push(message)
    }
    return kept
  }

  takeHeldTxids(): readonly number[] {
    const held = this.#held
    this.#held = []
    return held
  }

  reset(): void {
    this.#tracker.clear()
    this.#held = []
  }

  /** Starts recording the changes applied from now on, so older snapshot rows do not overwrite them. */
  begin(): SnapshotRecording<T> {
    const changed: InFlight<T> = new Map()
    this.#inFlight.add(changed)
    return {
      generation: this.#sink.generation,
      rowFor: (metadata, row) => {
        const changes = changed.get(row.key)
        if (changes === undefined) return row
        const bounds = { xmin: BigInt(metadata.xmin), xmax: BigInt(metadata.xmax), xip: new Set(metadata.xip_list.map((xid) => BigInt(xid))) }
        let value: T | undefined = row.value
        for (const change of changes) {
          const txids = change.headers.txids
          if (txids !== undefined && txids.length > 0 && txids.every((xid) => isVisibleIn(xid8Near(xid, bounds.xmax), bounds))) continue
          const operation = change.headers.operation
          value = operation === 'delete' ? undefined : operation === 'update' && value !== undefined ? { ...value, ...change.value } : change.value
        }
        if (value === row.value) return row
        return value === undefined ? undefined : { ...row, value }
      },
      end: () => void this.#inFlight.delete(changed),
    }
  }

  /** Writes a snapshot's rows in one batch and tracks it; resolves `false` when a reset happened since `generation`. */
  load(generation: number, metadata: SnapshotMetadata, rows: readonly ChangeMessage<T>[]): Promise<boolean> {
    return new Promise((resolve) => {
      this.#sink.whenSettled(() => {
        if (generation !== this.#sink.generation) {
          resolve(false)
          return
        }
        const store = this.#sink.store
        const messages: Message<T>[] = [...rows]
        if (store.getSnapshot().isUpToDate) messages.push({ headers: { control: 'up-to-date' } })
        store.applyBatch(messages)
        this.#tracker.add(metadata, new Set(rows.map((row) => row.key)))
        resolve(true)
      })
    })
  }
}
