/**
 * One bench table as the generator server holds it: pre-encoded snapshot chunks and a change log of scripted
 * transactions, with the live readers waiting on it.
 *
 * Rules:
 * - Snapshot chunks are encoded once, at `prepare`, so serving them costs the server a socket write only and
 *   no client is timed against the generator.
 * - Snapshot chunk `i` ends at virtual offset `0_i`; the last one ends at `0_inf`, before every log entry
 *   (log transactions start at LSN 1001), as in the real server (SHAPE-PROTOCOL §4.1).
 * - A log entry's offset is `${lsn}_${op_position}`, op positions step by 2 from 0 within a transaction, the
 *   last change of a transaction carries `last: true` (§3.2).
 * - A commit wakes every waiter exactly once, after the log holds the whole transaction (atomic batches).
 */
import { benchKey, scriptedTxIds, snapshotInsertJson } from './benchRows.mjs'

const FIRST_LSN = 1000

/** Compares offsets `{tx, op}` (op may be Infinity). */
export function compareOffsets(a, b) {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1
  if (a.op === b.op) return 0
  return a.op < b.op ? -1 : 1
}

/** Parses `TX_OP` into `{tx, op}`; undefined when malformed. */
export function parseOffset(text) {
  const match = /^(\d+)_(\d+|inf)$/.exec(text)
  if (!match) return undefined
  return { tx: Number(match[1]), op: match[2] === 'inf' ? Infinity : Number(match[2]) }
}

export function formatOffset(offset) {
  return `${offset.tx}_${offset.op === Infinity ? 'inf' : offset.op}`
}

export class BenchTable {
  /** @type {Buffer[]} */ chunks = []
  /** @type {{offset: {tx:number, op:number}, json: string}[]} */ log = []
  /** @type {Set<(table: BenchTable) => void>} */ #waiters = new Set()
  #txCount = 0

  /**
   * @param {string} name table name (also the relation and key prefix)
   * @param {number} rows number of snapshot rows, ids 1..rows
   * @param {number} chunkBytes target snapshot chunk size (the real server's threshold is 10 MiB)
   */
  constructor(name, rows, chunkBytes) {
    this.name = name
    this.rows = rows
    this.handle = `${(rows * 2654435761 >>> 0).toString(16)}-${name.length}17000000000000`
    let parts = []
    let bytes = 0
    for (let i = 1; i <= rows; i++) {
      const json = snapshotInsertJson(name, i)
      parts.push(json)
      bytes += json.length + 1
      if (bytes >= chunkBytes && i < rows) {
        this.chunks.push(Buffer.from(parts.join(',')))
        parts = []
        bytes = 0
      }
    }
    const snapshotEnd = JSON.stringify({ headers: { control: 'snapshot-end', xmin: '900', xmax: '900', xip_list: [] } })
    parts.push(snapshotEnd)
    this.chunks.push(Buffer.from(parts.join(',')))
    this.snapshotBytes = this.chunks.reduce((sum, chunk) => sum + chunk.length + 2, 0)
  }

  /** The offset of the end of the log (`0_inf` while the log is empty, after the last snapshot chunk). */
  get head() {
    const last = this.log.at(-1)
    return last ? last.offset : { tx: 0, op: Infinity }
  }

  /** Log entries strictly after `offset`. */
  entriesAfter(offset) {
    let lo = 0
    let hi = this.log.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compareOffsets(this.log[mid].offset, offset) <= 0) lo = mid + 1
      else hi = mid
    }
    return this.log.slice(lo)
  }

  /**
   * Commits the next scripted transaction: `size` single-row updates (or one update of each of `explicitIds`)
   * (offsets `${lsn}_${op_position}`, op positions stepping by 2), then wakes every waiter once.
   * Returns what a client needs to recognise that it applied it: the last key and the `priority` it now holds.
   */
  commit(size, explicitIds) {
    const tx = ++this.#txCount
    const lsn = FIRST_LSN + tx
    const ids = explicitIds ?? scriptedTxIds(tx, size, this.rows)
    const marker = 100 + tx
    ids.forEach((id, index) => {
      const offset = { tx: lsn, op: index * 2 }
      const headers = { operation: 'update', relation: ['public', this.name], lsn: String(lsn), op_position: offset.op, txids: [lsn] }
      if (index === ids.length - 1) headers.last = true
      const json = JSON.stringify({
        key: benchKey(this.name, id),
        value: { id: String(id), priority: String(marker), title: `tx ${tx} row ${id}` },
        headers,
      })
      this.log.push({ offset, json })
    })
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const waiter of waiters) waiter(this)
    return { tx, lsn, changes: ids.length, lastKey: benchKey(this.name, ids.at(-1)), marker }
  }

  /** Calls `waiter` once at the next commit; returns a cancel function. */
  waitForCommit(waiter) {
    this.#waiters.add(waiter)
    return () => this.#waiters.delete(waiter)
  }

  get waiterCount() {
    return this.#waiters.size
  }
}
