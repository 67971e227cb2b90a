import { describe, expect, it } from 'vitest'
import type { DecodedMessage, DecodedRelation } from '../../../src/server/sources/pgoutputDecoder'
import { PgoutputTransactions } from '../../../src/server/sources/pgoutputTransactions'

const items: DecodedRelation = {
  oid: 1,
  schema: 'public',
  name: 'items',
  replicaIdentity: 'full',
  columns: [
    { name: 'id', typeOid: 23, typeMod: -1, isKey: true },
    { name: 'done', typeOid: 16, typeMod: -1, isKey: false },
  ],
}
const begin = (xid: number, lsn: bigint): DecodedMessage => ({ tag: 'begin', finalLsn: lsn, xid: String(xid) })
const commit = (lsn: bigint): DecodedMessage => ({ tag: 'commit', commitLsn: lsn, endLsn: lsn + 1n })
const insert = (id: string, done: string | null): DecodedMessage => ({ tag: 'insert', relation: items, newTuple: { id, done } })

/** Feeds `messages`; returns what each commit completed. */
function feed(transactions: PgoutputTransactions, messages: readonly DecodedMessage[]) {
  return messages.flatMap((message) => transactions.push(message) ?? [])
}

describe('PgoutputTransactions', () => {
  it('groups a transaction by its commit, with the commit LSN, the xid and booleans as ::text prints them (P1, P2)', () => {
    const transactions = new PgoutputTransactions(10n)
    const update: DecodedMessage = {
      tag: 'update',
      relation: items,
      oldTuple: { id: '1', done: 'f' },
      oldKind: 'full',
      newTuple: { id: '1', done: 't' },
    }
    const done = feed(transactions, [begin(7, 20n), insert('1', 'f'), insert('2', null), update, commit(20n)])
    expect(done).toEqual([
      {
        xid: '7',
        lsn: 20n,
        truncated: [],
        changes: [
          { schema: 'public', table: 'items', operation: 'insert', row: { id: '1', done: 'false' }, oldRow: undefined },
          { schema: 'public', table: 'items', operation: 'insert', row: { id: '2', done: null }, oldRow: undefined },
          { schema: 'public', table: 'items', operation: 'update', row: { id: '1', done: 'true' }, oldRow: { id: '1', done: 'false' } },
        ],
      },
    ])
    expect(transactions.lsn).toBe(20n)
  })

  it('drops replayed transactions, advances on empty ones, and forgets one cut off by a lost connection (P1, P3)', () => {
    const transactions = new PgoutputTransactions(10n)
    expect(feed(transactions, [begin(5, 10n), insert('1', 't'), commit(10n)])).toEqual([])
    expect(feed(transactions, [begin(6, 12n), commit(12n)])).toEqual([])
    expect(transactions.lsn).toBe(12n)
    feed(transactions, [begin(7, 14n), insert('2', 't')])
    transactions.abandon()
    expect(feed(transactions, [commit(14n)])).toEqual([])
    const truncated = feed(transactions, [begin(8, 15n), { tag: 'truncate', relations: [items] }, commit(15n)])
    expect(truncated.map((transaction) => ({ lsn: transaction.lsn, truncated: transaction.truncated }))).toEqual([
      { lsn: 15n, truncated: [{ schema: 'public', table: 'items' }] },
    ])
  })
})
