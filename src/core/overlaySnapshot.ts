/**
 * A published snapshot with pending optimistic rows laid over it: what `shape.getSnapshot()` returns while (and
 * after) writes are pending (optimisticOverlay.ts).
 *
 * Invariants:
 * - Immutable: it holds a store snapshot (itself immutable) and a Map of the overlaid keys' visible rows
 *   (`undefined`: deleted) that the overlay never mutates after handing it over.
 * - A key's row is its overlay row when the key is overlaid, else the synced row. Order is the synced order, a row
 *   overlaid in place keeps its position, rows only the overlay has come after, in the order they were first written.
 * - Reading never exposes the store's Map (it walks `keys` and point reads), so the store keeps publishing in place.
 * - `keys` is the synced snapshot's own array while the overlay changes no membership, and one array per membership
 *   (the overlay's `keysFor` cache) otherwise, so a list of keys re-renders only when membership changes.
 */
import type { ShapeSnapshot } from './shapeSnapshot'
import { RowsView } from './rowsView'

/** What an overlay snapshot asks its overlay for: the keys array of a membership (cached across snapshots). */
export type KeysFor = (base: readonly string[], inserted: readonly string[], deleted: ReadonlySet<string>) => readonly string[]

/** `ShapeSnapshot` of synced rows plus pending optimistic rows (see the file's invariants). */
export class OverlaySnapshot<T> implements ShapeSnapshot<T> {
  readonly version: number
  readonly #base: ShapeSnapshot<T>
  readonly #visible: ReadonlyMap<string, T | undefined>
  readonly #pending: ReadonlySet<string>
  readonly #keysFor: KeysFor
  #membership: { inserted: string[]; deleted: Set<string> } | undefined
  #keys: readonly string[] | undefined
  #data: readonly T[] | undefined
  #rows: ReadonlyMap<string, T> | undefined
  #merged: Map<string, T> | undefined

  constructor(init: {
    version: number
    base: ShapeSnapshot<T>
    visible: ReadonlyMap<string, T | undefined>
    pending: ReadonlySet<string>
    keysFor: KeysFor
  }) {
    this.version = init.version
    this.#base = init.base
    this.#visible = init.visible
    this.#pending = init.pending
    this.#keysFor = init.keysFor
  }

  get isUpToDate(): boolean {
    return this.#base.isUpToDate
  }

  isPending(key: string): boolean {
    return this.#pending.has(key)
  }

  /** The row of `key` in this snapshot (O(1)). */
  rowOf(key: string): T | undefined {
    return this.#visible.has(key) ? this.#visible.get(key) : this.#base.rows.get(key)
  }

  get size(): number {
    const { inserted, deleted } = this.#membershipOf()
    return this.#base.rows.size + inserted.length - deleted.size
  }

  get keys(): readonly string[] {
    if (this.#keys === undefined) {
      const { inserted, deleted } = this.#membershipOf()
      this.#keys = inserted.length === 0 && deleted.size === 0 ? this.#base.keys : this.#keysFor(this.#base.keys, inserted, deleted)
    }
    return this.#keys
  }

  get data(): readonly T[] {
    if (this.#data === undefined) {
      if (this.#visible.size === 0) this.#data = this.#base.data
      else this.#data = Object.freeze(this.keys.map((key) => this.rowOf(key) as T))
    }
    return this.#data
  }

  get rows(): ReadonlyMap<string, T> {
    this.#rows ??= new RowsView(this)
    return this.#rows
  }

  /** The rows of this snapshot as a Map, built once when someone iterates `rows`. */
  allRows(): Map<string, T> {
    if (this.#merged === undefined) {
      const merged = new Map<string, T>()
      for (const key of this.keys) merged.set(key, this.rowOf(key) as T)
      this.#merged = merged
    }
    return this.#merged
  }

  #membershipOf(): { inserted: string[]; deleted: Set<string> } {
    if (this.#membership === undefined) {
      const inserted: string[] = []
      const deleted = new Set<string>()
      for (const [key, row] of this.#visible) {
        const synced = this.#base.rows.has(key)
        if (row === undefined && synced) deleted.add(key)
        else if (row !== undefined && !synced) inserted.push(key)
      }
      this.#membership = { inserted, deleted }
    }
    return this.#membership
  }
}
