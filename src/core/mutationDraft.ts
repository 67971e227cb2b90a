/**
 * What `shape.mutate` takes and gives: the draft `apply` writes to, the commit's result, the mutation's result.
 *
 * Invariant: a draft computes each row's key when the write is made, so a row whose key cannot be built
 * (`RowKeyError`) or a write that is not a row (`TypeError`) throws inside `apply`, before anything is shown.
 */
import type { Txid } from './txid'

/**
 * Where `apply` writes a mutation's optimistic rows. Keys come from the shape's primary key (`shape.rowKey`).
 * @example
 * shape.mutate({ apply: (draft) => { draft.insert({ id: 3, title: 'new' }); draft.update({ id: 1, done: true }); draft.delete({ id: 2 }) }, commit })
 */
export interface MutationDraft<T> {
  /** Shows `row` (a whole row carrying its primary key). */
  insert(row: T): void
  /** Merges `row` (a partial row carrying its primary key) into the row, as a protocol update does. */
  update(row: Partial<T>): void
  /** Hides a row, given as a row carrying its primary key or as its shape key. */
  delete(rowOrKey: Partial<T> | string): void
}

/** What `commit` resolves to: the txid (or txids) of the transaction(s) that wrote the rows. */
export interface CommitResult {
  /** `pg_current_xact_id()::xid` of the write's transaction: a number, bigint or decimal string, or several. */
  txid: Txid | readonly Txid[]
}

/**
 * A write for `shape.mutate`: the optimistic rows and the real write.
 * @example
 * const options: MutateOptions<Todo> = { apply: (draft) => draft.update({ id: 1, done: true }), commit: () => api.toggle(1) }
 */
export interface MutateOptions<T> {
  /** Writes the optimistic rows, synchronously. */
  apply: (draft: MutationDraft<T>) => void
  /** The real write (your API, server action, RPC), resolving to `{ txid }`. Called right after `apply`. */
  commit: () => Promise<CommitResult | Txid> | CommitResult | Txid
  /** How long to wait for the txids once `commit` resolved (default 30 000 ms). */
  timeoutMs?: number
  /** Aborting it rolls the optimistic rows back and rejects (the write itself may still land). */
  signal?: AbortSignal
}

/** What a confirmed mutation resolves to. */
export interface MutationResult {
  /** The confirmed txids, as decimal text. */
  readonly txids: readonly string[]
}

/** One write of a draft, with the key of its row. */
export interface Op<T> {
  readonly kind: 'insert' | 'update' | 'delete'
  readonly key: string
  readonly row: T | Partial<T> | undefined
}

/**
 * A draft recording writes into `ops`; `keyOf` builds a row's key, `checkKey` vets a key given as text.
 * @example
 * const ops: Op<Todo>[] = []
 * draftOf(ops, (row) => shape.rowKey(row), () => undefined).update({ id: 1, done: true })
 */
export function draftOf<T>(ops: Op<T>[], keyOf: (row: object) => string, checkKey: (key: string) => void): MutationDraft<T> {
  const rowOf = (row: unknown, what: string): object => {
    if (typeof row !== 'object' || row === null) throw new TypeError(`draft.${what} takes a row object, got ${String(row)}`)
    return row
  }
  return {
    insert: (row) => void ops.push({ kind: 'insert', key: keyOf(rowOf(row, 'insert')), row }),
    update: (row) => void ops.push({ kind: 'update', key: keyOf(rowOf(row, 'update')), row }),
    delete: (rowOrKey) => {
      if (typeof rowOrKey === 'string') {
        checkKey(rowOrKey)
        ops.push({ kind: 'delete', key: rowOrKey, row: undefined })
      } else ops.push({ kind: 'delete', key: keyOf(rowOf(rowOrKey, 'delete')), row: undefined })
    },
  }
}
