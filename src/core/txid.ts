/**
 * Postgres transaction ids as a shape confirms writes with them, and the error of a write never confirmed.
 *
 * Invariants:
 * - A txid is compared by its canonical decimal text: `42`, `42n` and `'42'` are the same transaction. Anything that
 *   is not a non-negative integer (a float, a negative number, `'0x2a'`, an empty string) is refused with `TypeError`
 *   when it is handed in, never silently waited on.
 * - Electric's `txids` header carries 32-bit xids: a write must report `pg_current_xact_id()::xid` of its transaction.
 *   The 64-bit `pg_current_xact_id()` is the same number only until the cluster's xid epoch wraps.
 * - A snapshot (`snapshot-end`: xmin, xmax, xip_list of `pg_current_snapshot()`, 64-bit) contains a 32-bit txid when
 *   the txid, read in the epoch nearest the snapshot's xmax (signed distance modulo 2^32, as PostgreSQL compares
 *   xids), is below xmin, or below xmax and not in progress. Reading it in xmax's own epoch instead would count every
 *   transaction after a snapshot of a wrapped cluster as committed before it (a write confirmed before its row came).
 */

/** A transaction id as drivers return it: a number, a bigint or its decimal text. */
export type Txid = number | bigint | string

/**
 * Why a write was not confirmed: the shape did not see its transaction within `timeoutMs` (or the wait was aborted).
 * A transaction that touches no row of the shape never shows up in it, so waiting on it can only end here.
 * @example
 * try { await shape.whenTxid(txid, { timeoutMs: 5000 }) } catch (error) { if (error instanceof TxidTimeoutError) retry() }
 */
export class TxidTimeoutError extends Error {
  /** The txids still unseen, as decimal text. */
  readonly txids: readonly string[]
  readonly timeoutMs: number
  /** `'timeout'` when the time ran out, `'aborted'` when the caller's signal aborted the wait. */
  readonly reason: 'timeout' | 'aborted'
  constructor(init: { txids: readonly string[]; timeoutMs: number; reason: 'timeout' | 'aborted'; cause?: unknown }) {
    const which = init.txids.length === 1 ? `transaction ${init.txids[0]}` : `transactions ${init.txids.join(', ')}`
    const head =
      init.txids.length === 0
        ? 'The write was aborted before its commit returned a txid.'
        : init.reason === 'timeout'
          ? `The shape did not see ${which} within ${init.timeoutMs} ms.`
          : `Waiting for ${which} was aborted before the shape saw it.`
    super(
      `${head} A transaction that touches no row of this shape never shows up in its stream; ` +
        'the txid must be the 32-bit pg_current_xact_id()::xid of the transaction that wrote the rows.',
      init.cause === undefined ? undefined : { cause: init.cause },
    )
    this.name = 'TxidTimeoutError'
    this.txids = init.txids
    this.timeoutMs = init.timeoutMs
    this.reason = init.reason
  }
}

/**
 * The canonical decimal text of a txid (see the file's invariants); throws `TypeError` for anything else.
 * @example
 * normalizeTxid(42n) === normalizeTxid('42') // true
 */
export function normalizeTxid(txid: unknown): string {
  if (typeof txid === 'bigint' && txid >= 0n) return txid.toString()
  if (typeof txid === 'number' && Number.isSafeInteger(txid) && txid >= 0) return String(txid)
  if (typeof txid === 'string' && /^\s*\d+\s*$/.test(txid)) return BigInt(txid.trim()).toString()
  throw new TypeError(`Not a transaction id: ${describe(txid)} (expected a non-negative integer as a number, bigint or decimal string)`)
}

/**
 * The txids of a commit's result: `{ txid }` with one txid or an array of them (or a bare txid, as the test server's
 * writes resolve). Throws `TypeError` otherwise.
 */
export function txidsOfCommit(result: unknown): string[] {
  if (typeof result === 'number' || typeof result === 'bigint' || typeof result === 'string') return [normalizeTxid(result)]
  const txid = typeof result === 'object' && result !== null ? (result as { txid?: unknown }).txid : undefined
  if (txid === undefined) {
    // The likeliest slip: returning the `fetch` Response instead of its body.
    const hint = typeof Response === 'function' && result instanceof Response ? ': return its body (`return response.json()`)' : ''
    throw new TypeError(`commit() must resolve to { txid } (one txid or an array of them), got ${describe(result)}${hint}`)
  }
  const list = Array.isArray(txid) ? txid : [txid]
  if (list.length === 0) throw new TypeError('commit() resolved to { txid: [] }: there is no transaction to wait for')
  return list.map(normalizeTxid)
}

/** The `snapshot-end` control message's visibility information. */
export interface TxSnapshot {
  readonly xmin: string
  readonly xmax: string
  readonly xip_list: readonly string[]
}

const EPOCH = 1n << 32n

/** True when the 32-bit `txid` is visible in the 64-bit `snapshot` (see the file's invariants). */
export function isVisibleIn(txid: string, snapshot: TxSnapshot): boolean {
  let xmin: bigint
  let xmax: bigint
  try {
    xmin = BigInt(snapshot.xmin)
    xmax = BigInt(snapshot.xmax)
  } catch {
    return false
  }
  let full = BigInt(txid)
  // snapshotTracker.ts's xid8Near, written out: importing it would bring the lazily loaded subset code up front.
  if (full < EPOCH) full = xmax + BigInt.asIntN(32, (full - xmax) % EPOCH)
  if (full < xmin) return true
  return full < xmax && !snapshot.xip_list.some((xip) => xip === full.toString())
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object' && value !== null) {
    // An instance of a class (a Response, a Map) prints as `{}` in JSON: name its class instead.
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name
    if (typeof name === 'string' && name !== '' && name !== 'Object' && name !== 'Array') return `a ${name}`
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}
