/**
 * One materialised shape: its snapshot chunks, its change log, and the requests waiting for either to grow.
 *
 * Invariants:
 * - Snapshot chunk `n` is served at the virtual offset `0_n`; the last chunk ends with `snapshot-end`. A request
 *   at `0_n` gets chunk `n + 1` while there is one, then the real log, whose LSNs are all > 0.
 * - Log entries are appended in strictly increasing `(lsn, op)` order and never change afterwards, so a read
 *   from a given offset is a pure function of the log's length.
 * - The end offset is the last entry's offset, or `0_inf` while the log is empty.
 * - A log read takes whole entries until the byte budget is spent (at least one), so any response ends on an
 *   entry boundary and `reachedEnd` says whether it carries the log's end.
 * - After `delete()` nothing is appended and every waiter (present or future) hears `deleted` exactly once.
 * - `bytes` is the UTF-16 length of every serialised message the shape holds (snapshot chunks and log), an
 *   approximation of its memory that the registry's eviction bound uses; `bytesAfter(offset)` is the part of the log
 *   a reader at `offset` has not read yet, so a lagging SSE reader is measured without reading the log.
 */
import type { LogOffset } from '../core/offset'
import { formatLogOffset, parseLogOffset } from '../core/offset'
import type { LogEntry } from './changeMessages'
import type { ShapeDefinition } from './shapeDefinition'

export type ShapeLogEvent = 'append' | 'deleted'

/** What a read from an offset found. */
export type LogRead =
  | { kind: 'data'; messages: readonly string[]; endOffset: string; reachedEnd: boolean; lastLsn: bigint }
  | { kind: 'empty'; endOffset: string }
  | { kind: 'out-of-bounds'; endOffset: string }

export class ShapeLog {
  readonly handle: string
  readonly definition: ShapeDefinition
  readonly #chunks: readonly (readonly string[])[]
  readonly #entries: LogEntry[] = []
  /** `#logBytes[i]` is the byte total of entries 0..i. */
  readonly #logBytes: number[] = []
  readonly #snapshotBytes: number
  readonly #listeners = new Set<(event: ShapeLogEvent) => void>()
  #state: 'active' | 'deleted' = 'active'

  /** `chunks` are the serialised snapshot chunks, the last one ending with `snapshot-end`. */
  constructor(input: { handle: string; definition: ShapeDefinition; chunks: readonly (readonly string[])[] }) {
    this.handle = input.handle
    this.definition = input.definition
    this.#chunks = input.chunks.length > 0 ? input.chunks : [[]]
    let bytes = 0
    for (const chunk of this.#chunks) for (const message of chunk) bytes += message.length
    this.#snapshotBytes = bytes
  }

  /** Approximate memory held by the shape's messages. */
  get bytes(): number {
    return this.#snapshotBytes + (this.#logBytes.at(-1) ?? 0)
  }

  /** Bytes of log entries after `offset` (a `TX_OP` string), 0 when there are none. */
  bytesAfter(offset: string): number {
    const position = parseLogOffset(offset)
    if (!position) throw new RangeError(`Not a log offset: ${offset}`)
    const start = this.#firstAfter(position)
    const total = this.#logBytes.at(-1) ?? 0
    return start === 0 ? total : total - (this.#logBytes[start - 1] ?? 0)
  }

  /**
   * Reads what follows `offset` up to the end of a transaction: at least one whole transaction, then whole
   * transactions while fewer than `maxBytes` were read, so a reader that stops after it is at a transaction boundary.
   */
  readTransactions(offset: string, maxBytes: number): LogRead {
    const first = this.read(offset, maxBytes)
    if (first.kind !== 'data' || first.reachedEnd || first.lastLsn === 0n) return first
    const messages = [...first.messages]
    let read: LogRead = first
    for (;;) {
      const next = this.read(read.endOffset, 0)
      if (next.kind !== 'data' || next.lastLsn !== first.lastLsn) break
      messages.push(...next.messages)
      read = next
      if (next.reachedEnd) break
    }
    return read === first ? first : { ...read, messages }
  }

  get state(): 'active' | 'deleted' {
    return this.#state
  }

  /** The first snapshot chunk, served for `offset=-1` at `0_0`. */
  firstChunk(): readonly string[] {
    return this.#chunks[0] ?? []
  }

  /** The log's end offset. */
  endOffset(): string {
    const last = this.#entries.at(-1)
    return last ? formatLogOffset({ tx: last.lsn, op: last.op }) : '0_inf'
  }

  /** The LSN of the last entry, 0 when there is none. */
  lastLsn(): bigint {
    return this.#entries.at(-1)?.lsn ?? 0n
  }

  append(entries: readonly LogEntry[]): void {
    if (this.#state === 'deleted' || entries.length === 0) return
    let bytes = this.#logBytes.at(-1) ?? 0
    for (const entry of entries) {
      this.#entries.push(entry)
      bytes += entry.json.length
      this.#logBytes.push(bytes)
    }
    this.#emit('append')
  }

  /** Reads what follows `offset` (a `TX_OP` string), at most about `maxBytes` of log. */
  read(offset: string, maxBytes: number): LogRead {
    const position = parseLogOffset(offset)
    if (!position) throw new RangeError(`Not a log offset: ${offset}`)
    if (position.tx === 0n && position.op !== Infinity && position.op + 1 < this.#chunks.length) {
      const next = position.op + 1
      return { kind: 'data', messages: this.#chunks[next] ?? [], endOffset: `0_${next}`, reachedEnd: false, lastLsn: 0n }
    }
    const end = this.endOffset()
    if (compare(position, parseLogOffset(end) as LogOffset) > 0) return { kind: 'out-of-bounds', endOffset: end }
    const start = this.#firstAfter(position)
    if (start >= this.#entries.length) return { kind: 'empty', endOffset: end }
    const messages: string[] = []
    let bytes = 0
    let index = start
    while (index < this.#entries.length && (messages.length === 0 || bytes < maxBytes)) {
      const entry = this.#entries[index] as LogEntry
      messages.push(entry.json)
      bytes += entry.json.length
      index++
    }
    const last = this.#entries[index - 1] as LogEntry
    return {
      kind: 'data',
      messages,
      endOffset: formatLogOffset({ tx: last.lsn, op: last.op }),
      reachedEnd: index === this.#entries.length,
      lastLsn: last.lsn,
    }
  }

  /** Calls `listener` at every append and once at deletion; returns the unsubscribe function. */
  subscribe(listener: (event: ShapeLogEvent) => void): () => void {
    if (this.#state === 'deleted') {
      queueMicrotask(() => listener('deleted'))
      return () => {}
    }
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  delete(): void {
    if (this.#state === 'deleted') return
    this.#state = 'deleted'
    this.#emit('deleted')
    this.#listeners.clear()
  }

  #emit(event: ShapeLogEvent): void {
    for (const listener of [...this.#listeners]) listener(event)
  }

  /** Index of the first entry after `position` (binary search over the log's `(lsn, op)` order). */
  #firstAfter(position: LogOffset): number {
    let low = 0
    let high = this.#entries.length
    while (low < high) {
      const mid = (low + high) >> 1
      const entry = this.#entries[mid] as LogEntry
      if (compare({ tx: entry.lsn, op: entry.op }, position) <= 0) low = mid + 1
      else high = mid
    }
    return low
  }
}

function compare(a: LogOffset, b: LogOffset): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1
  if (a.op === b.op) return 0
  return a.op < b.op ? -1 : 1
}
