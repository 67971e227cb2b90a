/**
 * Deferred parsing of one column (the `lazyJson` option): the row keeps the column's text and parses it on first read.
 *
 * Invariants:
 * - Transparent: the column stays an own, enumerable property in its place among the row's keys, so `row.col`,
 *   `Object.keys`, spread, `JSON.stringify` and `structuredClone` see the parsed value exactly as with eager parsing.
 *   The first read (or write) turns the accessor into a plain data property holding the value, and drops the text.
 * - One getter per column and parser, shared by every row (rows keep one hidden class, no closure per row); the
 *   text lives in a non-enumerable symbol-keyed slot of the row, so no copy of a row (spread, `Object.assign`,
 *   `structuredClone`) and no listing of its keys ever carries it.
 * - A text that does not parse throws the same typed `ValueParseError` eager parsing would, at that read, and
 *   again at every later read (the text is kept until a read succeeds).
 */
import { ShapeError, ValueParseError } from './errors'

type MutableRow = Record<string | symbol, unknown>

/** Installs lazy values of one column on rows. */
export interface LazyColumn {
  /** Makes `key` of `row` an accessor that parses `text` on first read. */
  define(row: Record<string, unknown>, text: string): void
}

/**
 * Compiles the lazy accessor of column `key` whose text is parsed by `parse` (errors named after `column`/`pgType`).
 *
 * @example
 * const payload = lazyColumn('payload', 'payload', 'jsonb', (text) => JSON.parse(text))
 * payload.define(row, '{"a":1}') // row.payload is parsed when first read
 */
export function lazyColumn(key: string, column: string, pgType: string, parse: (text: string) => unknown): LazyColumn {
  const slot = Symbol(`live-shapes lazy ${column}`)
  const settle = (row: MutableRow, value: unknown): void => {
    Object.defineProperty(row, key, { value, writable: true, enumerable: true, configurable: true })
    // Assigned, not deleted: deleting a property would turn the row into a slow dictionary object.
    row[slot] = undefined
  }
  const descriptor: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    get(this: MutableRow): unknown {
      let value: unknown
      try {
        value = parse(this[slot] as string)
      } catch (error) {
        if (error instanceof ShapeError) throw error
        throw new ValueParseError(column, pgType, { cause: error })
      }
      settle(this, value)
      return value
    },
    set(this: MutableRow, value: unknown): void {
      settle(this, value)
    },
  }
  return {
    define(row, text) {
      Object.defineProperty(row, slot, { value: text, writable: true, enumerable: false, configurable: true })
      Object.defineProperty(row, key, descriptor)
    },
  }
}
