/**
 * Published versions of a shape's rows: the `ShapeSnapshot` readers hold, and how a stale one stays exact.
 *
 * Invariants (the store's side is in shapeStore.ts):
 * - Exposure, not hand-out, forces a copy. `rows` is a read-only view of its snapshot's version: `get`, `has`
 *   and `size` answer for that version without exposing anything (O(1) on the current snapshot). Iterating it
 *   (`for…of`, `keys`, `values`, `entries`, `forEach`) hands out the Map itself and tells the host (`expose`), so
 *   the store copies before its next change. `data` and `keys` are fresh frozen arrays and expose nothing.
 * - Stale snapshots. A snapshot either owns an exact Map of its version, or a link `{ undo, next }` to the
 *   snapshot of the following version, where `undo` holds the previous row (`undefined`: absent) of exactly the keys
 *   that publish changed, and `order` the previous key order when it removed keys (removal loses positions).
 *   Reading an old snapshot copies the Map at the end of its chain and applies the undos newest to oldest
 *   (O(n + changes), once, then the link is dropped); a point read (`rows.get`) walks the chain instead, taking the
 *   first undo that holds the key. Links point old → new only, so snapshots nobody holds are garbage.
 */
import { RowsView } from './rowsView'

/**
 * One published state of a shape. Immutable: later batches never change a snapshot already obtained.
 *
 * @example
 * const snapshot = shape.getSnapshot()
 * snapshot.data.map((row) => row.title)
 */
export interface ShapeSnapshot<T> {
  /** Bumps only when a published batch changed something (0 before the first `up-to-date`). */
  readonly version: number
  /**
   * Rows by shape key, as of this version; never changes. `get`/`has`/`size` are O(1) point reads on the current
   * snapshot; iterating it hands out the version's Map, which makes the next publish copy it.
   */
  readonly rows: ReadonlyMap<string, T>
  /** Rows in key-insertion order, built lazily once per version. */
  readonly data: readonly T[]
  /** Keys in insertion order; the same array across versions while membership is unchanged. */
  readonly keys: readonly string[]
  /** True once the first `up-to-date` has been published (every published snapshot after that is a complete shape). */
  readonly isUpToDate: boolean
  /**
   * True while a pending optimistic write (`shape.mutate`) touches the row of `key`: render it as "saving". Always
   * false on a snapshot without pending writes.
   */
  isPending(key: string): boolean
}

/** What a snapshot needs from its store; typed without `T` so a store stays assignable to a wider row type. */
export interface SnapshotHost {
  /** Marks `map` exposed if it is the published Map. */
  expose(map: ReadonlyMap<string, unknown>): void
  /** The keys array of `epoch`, built from `rows` when not cached (shapeStore.ts shares one per membership epoch). */
  keysFor(epoch: number, rows: () => ReadonlyMap<string, unknown>): readonly string[]
}

/** How a snapshot's version differs from the next one (see stale snapshots above). */
export interface Link<T> {
  readonly undo: ReadonlyMap<string, T | undefined>
  readonly order: readonly string[] | undefined
  readonly next: Snapshot<T>
}

/** The store's `ShapeSnapshot`; internal to core, created only by `ShapeStore`. */
export class Snapshot<T> implements ShapeSnapshot<T> {
  readonly version: number
  readonly isUpToDate: boolean
  readonly #keysEpoch: number
  readonly #host: SnapshotHost
  #map: ReadonlyMap<string, T> | undefined
  #link: Link<T> | undefined
  #data: readonly T[] | undefined
  #keys: readonly string[] | undefined
  #rows: RowsView<T> | undefined
  /** Row count of this version, fixed at creation. */
  readonly size: number

  constructor(version: number, map: ReadonlyMap<string, T>, isUpToDate: boolean, keysEpoch: number, host: SnapshotHost) {
    this.version = version
    this.#map = map
    this.size = map.size
    this.isUpToDate = isUpToDate
    this.#keysEpoch = keysEpoch
    this.#host = host
  }

  get rows(): ReadonlyMap<string, T> {
    this.#rows ??= new RowsView(this)
    return this.#rows
  }

  /** A store snapshot holds synced rows only: nothing in it is pending (overlaySnapshot.ts holds pending rows). */
  isPending(_key: string): boolean {
    return false
  }

  /** The row of `key` in this version, without exposing or rebuilding anything. */
  rowOf(key: string): T | undefined {
    let snapshot: Snapshot<T> = this
    while (snapshot.#link !== undefined) {
      const { undo, next } = snapshot.#link
      if (undo.has(key)) return undo.get(key)
      snapshot = next
    }
    return (snapshot.#map as ReadonlyMap<string, T>).get(key)
  }

  /** This version's Map, handed out to an iteration: exposed if it is the published one. */
  allRows(): ReadonlyMap<string, T> {
    const map = this.#exact()
    this.#host.expose(map)
    return map
  }

  get data(): readonly T[] {
    this.#data ??= Object.freeze(Array.from(this.#exact().values()))
    return this.#data
  }

  get keys(): readonly string[] {
    this.#keys ??= this.#host.keysFor(this.#keysEpoch, () => this.#exact())
    return this.#keys
  }

  /** Called by the store when it is about to mutate this snapshot's Map in place: it keeps a link to the next version. */
  link(link: Link<T>): void {
    this.#link = link
    this.#map = undefined
  }

  /** The exact rows of this version; rebuilds them once from the chain if the Map moved on. */
  #exact(): ReadonlyMap<string, T> {
    if (this.#link === undefined) return this.#map as ReadonlyMap<string, T>
    const links: Link<T>[] = []
    let end: Snapshot<T> = this
    while (end.#link !== undefined) {
      links.push(end.#link)
      end = end.#link.next
    }
    let rows = new Map(end.#map)
    let order: readonly string[] | undefined
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i] as Link<T>
      for (const [key, previous] of link.undo) {
        if (previous === undefined) rows.delete(key)
        else rows.set(key, previous)
      }
      // The oldest link that removed keys knows this version's order: later links only appended.
      if (link.order !== undefined) order = link.order
    }
    if (order !== undefined) {
      const ordered = new Map<string, T>()
      for (const key of order) {
        const row = rows.get(key)
        if (row !== undefined) ordered.set(key, row)
      }
      rows = ordered
    }
    this.#map = rows
    this.#link = undefined
    return rows
  }
}
