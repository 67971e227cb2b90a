/**
 * Which live changes a loaded subset snapshot already holds, so a `log: 'changes_only'` shape applies each change
 * once: the server's snapshot metadata (`xmin`, `xmax`, `xip_list`, `database_lsn`) against the `txids` and `lsn` of
 * later changes (protocol §3.6).
 *
 * Invariants:
 * - A transaction is visible in a snapshot when its id is below `xmin`, or below `xmax` and not in `xip_list`
 *   (PostgreSQL's MVCC rule). A change whose key a snapshot loaded and one of whose transactions is visible in it is
 *   already in that snapshot's rows: it is dropped.
 * - Change `txids` are 32-bit xids and snapshot bounds are 64-bit (epoch-qualified): an xid is read in the epoch
 *   nearest the snapshot's `xmax` (signed distance modulo 2^32), which holds while snapshots are retired as below.
 * - A snapshot is retired once a change committed after it arrives (a change `lsn` above its `database_lsn`, or
 *   a transaction at or above its `xmax`): every later change is newer than its rows, so nothing more is dropped
 *   for it. `clear()` forgets all (the shape was reset by a 409).
 * - A change without `txids` is never dropped: only what provably is in a snapshot is.
 */
import type { ChangeMessage } from './protocol'

/**
 * The metadata of a subset snapshot response, as the server sends it (xids and LSN as decimal strings).
 * @example
 * const { data, metadata } = await shape.requestSnapshot({ limit: 10, orderBy: 'id' }) // metadata.xmin === '742'
 */
export interface SnapshotMetadata {
  readonly xmin: string
  readonly xmax: string
  readonly xip_list: readonly string[]
  readonly database_lsn: string
  readonly snapshot_mark: number
}

interface Tracked {
  readonly xmin: bigint
  readonly xmax: bigint
  readonly xip: ReadonlySet<bigint>
  readonly databaseLsn: bigint
  readonly keys: ReadonlySet<string>
}

const EPOCH = 2n ** 32n

/** `xid` (32-bit) in the epoch nearest `reference` (64-bit). */
export function xid8Near(xid: number, reference: bigint): bigint {
  return reference + BigInt.asIntN(32, (BigInt(xid) - reference) % EPOCH)
}

/**
 * True when transaction `xid8` had committed when the snapshot was taken.
 * @example
 * isVisibleIn(5n, { xmin: 10n, xmax: 20n, xip: new Set() }) // true
 */
export function isVisibleIn(xid8: bigint, snapshot: { xmin: bigint; xmax: bigint; xip: ReadonlySet<bigint> }): boolean {
  return xid8 < snapshot.xmin || (xid8 < snapshot.xmax && !snapshot.xip.has(xid8))
}

/**
 * The loaded snapshots of one shape and the rule that drops the changes they hold.
 * @example
 * tracker.add(metadata, new Set(keys)); if (tracker.holds(change)) skip(change)
 */
export class SnapshotTracker {
  readonly #snapshots = new Map<number, Tracked>()
  #mark = 0

  /** Tracks a loaded snapshot holding `keys`. */
  add(metadata: SnapshotMetadata, keys: ReadonlySet<string>): void {
    this.#snapshots.set(this.#mark++, {
      xmin: BigInt(metadata.xmin),
      xmax: BigInt(metadata.xmax),
      xip: new Set(metadata.xip_list.map((xid) => BigInt(xid))),
      databaseLsn: BigInt(metadata.database_lsn),
      keys,
    })
  }

  /** Number of snapshots still able to drop changes. */
  get size(): number {
    return this.#snapshots.size
  }

  /** True when `change` is already in a tracked snapshot's rows; retires what it outdates. */
  holds(change: ChangeMessage<unknown>): boolean {
    const txids = change.headers.txids ?? []
    let held = false
    for (const [mark, snapshot] of this.#snapshots) {
      const latest = txids.reduce((max, xid) => {
        const xid8 = xid8Near(xid, snapshot.xmax)
        return xid8 > max ? xid8 : max
      }, -1n)
      if (latest >= 0n && snapshot.keys.has(change.key) && isVisibleIn(latest, snapshot)) held = true
      const lsn = change.headers.lsn === undefined ? undefined : BigInt(change.headers.lsn)
      if (latest >= snapshot.xmax || (lsn !== undefined && lsn > snapshot.databaseLsn)) this.#snapshots.delete(mark)
    }
    return held
  }

  /** Forgets every snapshot. */
  clear(): void {
    this.#snapshots.clear()
  }
}
