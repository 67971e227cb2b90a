/**
 * The publication and the logical slot a PostgreSQL source owns, and adding described tables to the publication.
 *
 * Invariants:
 * - The publication (empty, `publish_via_partition_root`) is created before the slot, so the slot sees it; a
 *   failure part-way drops what was created, so a source that never came up leaves nothing behind.
 * - An inactive slot of the same name (left by a killed run) is replaced; an active one is never touched.
 * - Publishing a table sets `REPLICA IDENTITY FULL` on it (as Electric does) and on each partition it has then (a
 *   partition logs by its own identity), so updates and deletes carry the whole old row, and with it an unchanged
 *   TOASTed value that pgoutput leaves out of the new row; it adds the table to the publication once; requests describing a new table at the same moment all
 *   succeed (the ones that lose the race to add it find it added). Whether a table is published is read from the
 *   catalog on each description, so a table dropped and created again under the same name is published again.
 *   Nothing else is created on users' tables.
 * - Dropping the slot retries while the walsender still holds it (error 55006) for a moment after its
 *   connection closed.
 */
import type pg from 'pg'
import { quoteIdentifier } from '../identifiers'
import type { TableDescription } from './source'

/** The names of a source's publication and slot. */
interface ReplicationNames {
  slotName: string
  publicationName: string
}

/**
 * Creates the publication (unless it exists) and then the slot; returns the slot's start LSN.
 * @example
 * const startLsn = await createReplicationObjects(pool, { slotName, publicationName })
 */
export async function createReplicationObjects(pool: pg.Pool, names: ReplicationNames): Promise<bigint> {
  let publicationCreated = false
  try {
    const existing = await pool.query('SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1', [names.publicationName])
    if (existing.rowCount === 0) {
      await pool.query(`CREATE PUBLICATION ${quoteIdentifier(names.publicationName)} WITH (publish_via_partition_root = true)`)
    }
    publicationCreated = true
    await pool.query(
      `SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots
        WHERE slot_name = $1 AND NOT active`,
      [names.slotName],
    )
    const slot = await pool.query<{ lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')",
      [names.slotName],
    )
    return parseLsn(slot.rows[0]?.lsn ?? '0/0')
  } catch (error) {
    // The slot is created last: nothing of it to drop here.
    if (publicationCreated) {
      await pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(names.publicationName)}`).catch(() => undefined)
    }
    throw error
  }
}

/** Drops the slot and then the publication. */
export async function dropReplicationObjects(
  pool: pg.Pool,
  names: ReplicationNames,
  schedule: (callback: () => void, ms: number) => unknown,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(
        'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
        [names.slotName],
      )
      break
    } catch (error) {
      const inUse = (error as { code?: unknown }).code === '55006'
      if (!inUse || attempt >= 100) throw error
      await new Promise<void>((resolve) => {
        schedule(resolve, 20)
      })
    }
  }
  await pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(names.publicationName)}`)
}

/** Makes `table` (quoted as `qualified`) stream its changes through the publication, doing only what is missing. */
export async function publishTable(
  pool: pg.Pool,
  publicationName: string,
  table: TableDescription,
  qualified: string,
): Promise<void> {
  // Read from the catalog on every description, not remembered by name: a table dropped and created again under
  // the same name (a dev reset) is a new relation, neither published nor REPLICA IDENTITY FULL.
  const state = await pool.query<{ member: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr
                      JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
                     WHERE p.pubname = $1 AND pr.prrelid = c.oid) AS member
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $2 AND c.relname = $3`,
    [publicationName, table.schema, table.name],
  )
  const current = state.rows[0]
  // A partition logs its old rows by its own replica identity, not its root's: every table of the tree needs FULL.
  const partial = await pool.query<{ qualified: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS qualified
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE (c.oid = $1::regclass OR c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree($1::regclass)))
        AND c.relkind IN ('r', 'p') AND c.relreplident <> 'f'
      ORDER BY c.oid = $1::regclass DESC, c.oid`,
    [qualified],
  )
  for (const { qualified: member } of partial.rows) await pool.query(`ALTER TABLE ${member} REPLICA IDENTITY FULL`)
  if (current?.member !== true) {
    // Requests describing a new table at once all find it missing; the ones that lose the race to add it meet
    // `duplicate_object` (42710), which means what they wanted is done.
    await pool.query(`ALTER PUBLICATION ${quoteIdentifier(publicationName)} ADD TABLE ${qualified}`).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== '42710') throw error
    })
  }
}

/** `X/Y` (hex halves) → bigint. */
function parseLsn(text: string): bigint {
  const [high, low] = text.split('/')
  if (high === undefined || low === undefined) throw new Error(`not an LSN: ${text}`)
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`)
}
