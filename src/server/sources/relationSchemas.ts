/**
 * The columns the PostgreSQL source last knew for each published table, and which tables a pgoutput Relation
 * message says changed since (source.ts, on schema changes).
 *
 * pgoutput sends no DDL. It sends a Relation message (oid, schema, name, columns with type oid and modifier) before
 * a table's first change in a replication session, and again before its first change after its schema changed.
 * So a change of columns is seen with the next row change (or TRUNCATE) of that table, in the same transaction,
 * never at the ALTER itself.
 *
 * Invariants:
 * - A table's baseline is the earliest signature not yet superseded by a delivered Relation message: a
 *   description (`know`) sets it only when there is none. A shape is described at its creation, so its columns
 *   are the baseline or newer; any Relation message that differs from the baseline changes the table, which may
 *   also drop shapes described after the ALTER (a resync, never a missed change).
 * - A table changed when a Relation message differs from its baseline in oid (dropped and recreated), column
 *   names, order, type oids or type modifiers. A renamed table (same oid, new name) changes its old name.
 *   NOT NULL, defaults and primary keys are not in the message and are not detected.
 * - `accept` is called only for Relation messages of delivered transactions (pgoutputTransactions.ts), so a
 *   transaction cut off by a lost connection and resent whole is compared again, against the same baseline.
 */
import type { SqlQuery } from './describeTable'
import type { DecodedRelation } from './pgoutputDecoder'
import type { TableName } from './source'

/** The columns pgoutput (protocol 1) publishes: not dropped, not generated, in `attnum` order. */
const SIGNATURE_SQL = `
SELECT c.oid::int8::text AS oid, a.attname AS name, a.atttypid::int8::text AS type_oid, a.atttypmod AS type_mod
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum`

/** A table's columns as pgoutput announces them (no generated or dropped columns), with its oid. */
export interface RelationSignature {
  oid: number
  schema: string
  name: string
  columns: readonly { name: string; typeOid: number; typeMod: number }[]
}

/**
 * Baselines per table name and the comparison of Relation messages with them.
 * @example
 * const schemas = new RelationSchemas()
 * schemas.know(await relationSignature(pool, 'public', 'items'))
 * const changed = schemas.accept(relationMessage) // [{ schema: 'public', table: 'items' }] after an ALTER
 */
export class RelationSchemas {
  readonly #byName = new Map<string, RelationSignature>()

  /** True when the table has a baseline (then `know` would not change it). */
  knows(schema: string, name: string): boolean {
    return this.#byName.has(nameKey(schema, name))
  }

  /** Sets the baseline of a described table unless it has one. */
  know(signature: RelationSignature): void {
    const key = nameKey(signature.schema, signature.name)
    if (!this.#byName.has(key)) this.#byName.set(key, signature)
  }

  /** Makes `relation` the baseline of its table; returns the tables whose columns it shows changed. */
  accept(relation: DecodedRelation): TableName[] {
    const changed: TableName[] = []
    const key = nameKey(relation.schema, relation.name)
    for (const [other, known] of this.#byName) {
      if (other !== key && known.oid === relation.oid) {
        changed.push({ schema: known.schema, table: known.name })
        this.#byName.delete(other)
      }
    }
    const known = this.#byName.get(key)
    if (known !== undefined && !sameColumns(known, relation)) changed.push({ schema: relation.schema, table: relation.name })
    this.#byName.set(key, {
      oid: relation.oid,
      schema: relation.schema,
      name: relation.name,
      columns: relation.columns.map(({ name, typeOid, typeMod }) => ({ name, typeOid, typeMod })),
    })
    return changed
  }
}

/**
 * The signature of `schema.name` as pgoutput would announce it now, or undefined when there is no such table. Read
 * it before describing the table: an ALTER in between then makes the baseline older than the shape, not newer.
 */
export async function relationSignatureWith(
  query: SqlQuery,
  schema: string,
  name: string,
): Promise<RelationSignature | undefined> {
  const rows = await query(SIGNATURE_SQL, [schema, name])
  const first = rows[0]
  if (first === undefined) return undefined
  return {
    oid: Number(first['oid']),
    schema,
    name,
    columns: rows.map((row) => ({ name: String(row['name']), typeOid: Number(row['type_oid']), typeMod: Number(row['type_mod']) })),
  }
}

function nameKey(schema: string, name: string): string {
  return JSON.stringify([schema, name])
}

function sameColumns(known: RelationSignature, relation: DecodedRelation): boolean {
  return (
    known.oid === relation.oid &&
    known.columns.length === relation.columns.length &&
    known.columns.every((column, index) => {
      const other = relation.columns[index]
      return other !== undefined && other.name === column.name && other.typeOid === column.typeOid && other.typeMod === column.typeMod
    })
  )
}
