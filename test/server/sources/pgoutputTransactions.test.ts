import { describe, expect, it } from 'vitest'
import type { DecodedMessage, DecodedRelation } from '../../../src/server/sources/pgoutputDecoder'
import { PgoutputTransactions } from '../../../src/server/sources/pgoutputTransactions'
import { RelationSchemas, type RelationSignature } from '../../../src/server/sources/relationSchemas'

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
  it('groups a transaction by its commit, with the commit LSN, the xid and booleans as ::text prints them', () => {
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
        schemaChanged: [],
        changes: [
          { schema: 'public', table: 'items', operation: 'insert', row: { id: '1', done: 'false' }, oldRow: undefined },
          { schema: 'public', table: 'items', operation: 'insert', row: { id: '2', done: null }, oldRow: undefined },
          { schema: 'public', table: 'items', operation: 'update', row: { id: '1', done: 'true' }, oldRow: { id: '1', done: 'false' } },
        ],
      },
    ])
    expect(transactions.lsn).toBe(20n)
  })

  it('drops replayed transactions, advances on empty ones, and forgets one cut off by a lost connection', () => {
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

  describe('schema changes (Relation messages against the baselines of relationSchemas.ts)', () => {
    const described: RelationSignature = {
      oid: 1,
      schema: 'public',
      name: 'items',
      columns: items.columns.map(({ name, typeOid, typeMod }) => ({ name, typeOid, typeMod })),
    }
    const withColumns = (changes: Partial<DecodedRelation>): DecodedMessage => ({ tag: 'relation', relation: { ...items, ...changes } })
    const added = withColumns({ columns: [...items.columns, { name: 'note', typeOid: 25, typeMod: -1, isKey: false }] })
    const schemaChangedBy = (transactions: PgoutputTransactions, xid: number, lsn: bigint, relation: DecodedMessage) =>
      feed(transactions, [begin(xid, lsn), relation, insert(String(xid), 't'), commit(lsn)]).map((transaction) => transaction.schemaChanged)

    const started = (): PgoutputTransactions => {
      const schemas = new RelationSchemas()
      schemas.know(described)
      return new PgoutputTransactions(10n, schemas)
    }

    it('a Relation message equal to the described columns changes nothing; one with a column added changes the table once', () => {
      const transactions = started()
      expect(schemaChangedBy(transactions, 11, 11n, withColumns({}))).toEqual([[]])
      expect(schemaChangedBy(transactions, 12, 12n, added)).toEqual([[{ schema: 'public', table: 'items' }]])
      expect(schemaChangedBy(transactions, 13, 13n, added)).toEqual([[]])
    })

    it.each([
      { change: 'a dropped column', relation: withColumns({ columns: items.columns.slice(0, 1) }) },
      { change: 'a renamed column', relation: withColumns({ columns: [items.columns[0]!, { ...items.columns[1]!, name: 'finished' }] }) },
      { change: 'a type change', relation: withColumns({ columns: [{ ...items.columns[0]!, typeOid: 20 }, items.columns[1]!] }) },
      { change: 'a type modifier change', relation: withColumns({ columns: [items.columns[0]!, { ...items.columns[1]!, typeMod: 12 }] }) },
      { change: 'a new table of the same name', relation: withColumns({ oid: 2 }) },
    ])('$change changes the table', ({ relation }) => {
      expect(schemaChangedBy(started(), 11, 11n, relation)).toEqual([[{ schema: 'public', table: 'items' }]])
    })

    it('a renamed table changes its old name', () => {
      const transactions = started()
      expect(schemaChangedBy(transactions, 11, 11n, withColumns({ name: 'goods' }))).toEqual([[{ schema: 'public', table: 'items' }]])
    })

    it('a described table keeps its older baseline, so a shape described before the ALTER is still dropped', () => {
      const schemas = new RelationSchemas()
      schemas.know(described)
      schemas.know({ ...described, columns: [...described.columns, { name: 'note', typeOid: 25, typeMod: -1 }] })
      expect(schemaChangedBy(new PgoutputTransactions(10n, schemas), 11, 11n, added)).toEqual([[{ schema: 'public', table: 'items' }]])
    })

    it('compares the Relation messages of delivered transactions only: replayed ones are not, abandoned ones are again', () => {
      const transactions = started()
      expect(schemaChangedBy(transactions, 9, 10n, added)).toEqual([])
      feed(transactions, [begin(11, 11n), added, insert('11', 't')])
      transactions.abandon()
      expect(schemaChangedBy(transactions, 11, 11n, added)).toEqual([[{ schema: 'public', table: 'items' }]])
    })

    it('a transaction whose only news is a changed relation is still delivered', () => {
      const done = feed(started(), [begin(11, 11n), added, commit(11n)])
      expect(done.map((transaction) => transaction.schemaChanged)).toEqual([[{ schema: 'public', table: 'items' }]])
    })
  })
})
