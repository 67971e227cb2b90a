/**
 * Which Postgres transactions a shape has published, and the callers waiting for one (`shape.whenTxid`).
 *
 * Invariants:
 * - A txid counts as seen only once a change carrying it was applied and published by the store (the store reports
 *   it from the publish step of a batch, before the batch's listeners run), or once a published snapshot contains
 *   it (`snapshot-end`). Staged changes of a response that failed, and changes discarded by a must-refetch, never
 *   count.
 * - The record is bounded: the last `RECENT_TXIDS_BOUND` (1024) distinct txids seen, oldest forgotten first, plus
 *   the last published snapshot. A txid forgotten from the record and not visible in that snapshot is waited for
 *   again (and times out), so the bound is the number of newer transactions a caller may let pass before asking.
 * - Every wait ends exactly once: resolved when seen, or rejected with `TxidTimeoutError` on its timeout, its abort
 *   or the shape's close; ending releases its timer and abort listener.
 */
import type { Clock, TimerHandle } from './clock'
import { isVisibleIn, normalizeTxid, TxidTimeoutError } from './txid'
import type { Txid, TxSnapshot } from './txid'

/** How many distinct recent txids a shape remembers for `whenTxid` calls made after the transaction arrived. */
export const RECENT_TXIDS_BOUND = 1024

/** Default of `whenTxid`'s `timeoutMs`. */
export const DEFAULT_TXID_TIMEOUT_MS = 30_000

/** Options of `shape.whenTxid`. */
export interface WhenTxidOptions {
  /** Reject with `TxidTimeoutError` after this long (default 30 000 ms). */
  timeoutMs?: number | undefined
  /** Aborting it rejects the wait with `TxidTimeoutError` (`reason: 'aborted'`). */
  signal?: AbortSignal | undefined
}

interface Waiter {
  readonly txids: Set<string>
  readonly settle: (error?: Error) => void
  readonly abort: (cause: unknown) => void
}

/** What a publish step of the store made visible. */
export interface SyncedTransactions {
  /** Txids of the published change messages, in arrival order (numbers as on the wire). */
  readonly txids: readonly number[]
  /** `snapshot-end` messages of the published part of the batch. */
  readonly snapshots: readonly TxSnapshot[]
}

/** The record of published txids of one shape and its waiters (see the file's invariants). */
export class TxidTracker {
  readonly #clock: Clock
  readonly #recent = new Set<string>()
  #snapshot: TxSnapshot | undefined
  readonly #waiters = new Set<Waiter>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** True when `txid` (canonical text) was published recently or is in the last published snapshot. */
  has(txid: string): boolean {
    if (this.#recent.has(txid)) return true
    return this.#snapshot !== undefined && isVisibleIn(txid, this.#snapshot)
  }

  /** True when one of `txids` is in `synced`: by a change carrying it or by a snapshot containing it. */
  static contains(synced: SyncedTransactions, txid: string): boolean {
    for (const seen of synced.txids) if (String(seen) === txid) return true
    return synced.snapshots.some((snapshot) => isVisibleIn(txid, snapshot))
  }

  /** Records what a publish made visible and resolves the waiters it satisfies. */
  record(synced: SyncedTransactions): void {
    for (const txid of synced.txids) {
      const text = String(txid)
      this.#recent.delete(text)
      this.#recent.add(text)
      if (this.#recent.size > RECENT_TXIDS_BOUND) this.#recent.delete(this.#recent.values().next().value as string)
    }
    const last = synced.snapshots[synced.snapshots.length - 1]
    if (last !== undefined) this.#snapshot = last
    for (const waiter of Array.from(this.#waiters)) {
      for (const txid of Array.from(waiter.txids)) if (this.has(txid)) waiter.txids.delete(txid)
      if (waiter.txids.size === 0) waiter.settle()
    }
  }

  /** Rejects every waiter with `TxidTimeoutError` (`reason: 'aborted'`, `cause`): the shape closed. */
  abortAll(cause: unknown): void {
    for (const waiter of Array.from(this.#waiters)) waiter.abort(cause)
  }

  /** Resolves once every txid in `txids` has been seen (at once if already seen); rejects on timeout or abort. */
  wait(txids: readonly Txid[], options: WhenTxidOptions = {}): Promise<void> {
    let wanted: Set<string>
    try {
      wanted = new Set(txids.map(normalizeTxid))
    } catch (error) {
      return Promise.reject(error)
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TXID_TIMEOUT_MS
    if (!(timeoutMs >= 0)) return Promise.reject(new RangeError(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`))
    for (const txid of Array.from(wanted)) if (this.has(txid)) wanted.delete(txid)
    if (wanted.size === 0) return Promise.resolve()
    const { signal } = options
    if (signal?.aborted) {
      return Promise.reject(new TxidTimeoutError({ txids: [...wanted], timeoutMs, reason: 'aborted', cause: signal.reason }))
    }
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined
      const onAbort = (): void => waiter.settle(new TxidTimeoutError({ txids: [...wanted], timeoutMs, reason: 'aborted', cause: signal?.reason }))
      const waiter: Waiter = {
        txids: wanted,
        settle: (error) => {
          if (!this.#waiters.delete(waiter)) return
          if (timer !== undefined) this.#clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          if (error) reject(error)
          else resolve()
        },
        abort: (cause) => waiter.settle(new TxidTimeoutError({ txids: [...wanted], timeoutMs, reason: 'aborted', cause })),
      }
      this.#waiters.add(waiter)
      timer = this.#clock.setTimeout(() => waiter.settle(new TxidTimeoutError({ txids: [...wanted], timeoutMs, reason: 'timeout' })), timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
