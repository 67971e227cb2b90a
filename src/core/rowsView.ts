/**
 * `rows` of a snapshot, as a read-only Map: the view both a store snapshot and an overlay snapshot hand out.
 *
 * Invariants:
 * - Point reads (`get`, `has`, `size`) answer from the snapshot for its own version without building or exposing any
 *   Map, so reading a few rows of a large shape costs nothing per publish.
 * - Only iterating asks the snapshot for a whole Map (`allRows()`: the store's version Map, which it then treats as
 *   exposed, or an overlay's merged one), and every iteration method goes through it.
 */

/** What a `RowsView` reads: the snapshot behind it. */
export interface RowsSource<T> {
  readonly size: number
  rowOf(key: string): T | undefined
  /** The snapshot's rows as a Map, for an iteration. */
  allRows(): ReadonlyMap<string, T>
}

/** A read-only Map over one snapshot's rows (see the invariants above). */
export class RowsView<T> implements ReadonlyMap<string, T> {
  readonly #source: RowsSource<T>

  constructor(source: RowsSource<T>) {
    this.#source = source
  }

  get size(): number {
    return this.#source.size
  }

  get(key: string): T | undefined {
    return this.#source.rowOf(key)
  }

  has(key: string): boolean {
    return this.#source.rowOf(key) !== undefined
  }

  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#source.allRows()) callback.call(thisArg, value, key, this)
  }

  keys(): MapIterator<string> {
    return this.#source.allRows().keys()
  }

  values(): MapIterator<T> {
    return this.#source.allRows().values()
  }

  entries(): MapIterator<[string, T]> {
    return this.#source.allRows().entries()
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.#source.allRows()[Symbol.iterator]()
  }

  get [Symbol.toStringTag](): string {
    return 'ShapeRows'
  }
}
