/**
 * The writes to `items`, shared by the JSON API (`app/api/items/route.ts`, what the page calls once JavaScript runs)
 * and the form route (`app/api/items/form/route.ts`, what a plain HTML form posts without JavaScript).
 *
 * Invariants:
 * - W1. Each write runs in one transaction and reports `pg_current_xact_id()::xid` read inside it: the 32-bit txid
 *   Electric (and the dev handler) put in the `txids` header of the changes it made, which the browser waits for to
 *   confirm its optimistic rows. (The 64-bit `pg_current_xact_id()` differs once the xid epoch has wrapped.)
 * - W2. Input is checked before the database sees it (`ItemWriteError` 400); a row that is gone is a 404, because a
 *   write that changes no row never shows up in the shape and its optimistic rows must roll back now, not after
 *   a timeout; a value the database refuses (the `items_title_check` CHECK constraint) is a 422 with its message.
 */
import 'server-only'
import { database } from './database'

/** A refused write, with the HTTP status the routes answer. */
export class ItemWriteError extends Error {
  constructor(
    readonly status: 400 | 404 | 422,
    message: string,
  ) {
    super(message)
    this.name = 'ItemWriteError'
  }
}

/** What a write reports: its transaction id, as a decimal string (W1). */
export interface WriteResult {
  txid: string
  id?: string
}

/** Checks an id given as a number or a decimal string. */
export function parseId(value: unknown): string {
  const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value
  if (typeof text !== 'string' || !/^\d{1,18}$/.test(text)) throw new ItemWriteError(400, '"id" must be a positive integer')
  return text
}

/** Checks a title: non-empty, at most 200 characters (the database refuses more, see `database.ts`). */
export function parseTitle(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new ItemWriteError(400, '"title" must be a non-empty string of at most 200 characters')
  }
  return value.trim()
}

/** Checks a priority: 1, 2 or 3 (default 1); form fields arrive as strings. */
export function parsePriority(value: unknown): number {
  if (value === undefined || value === null || value === '') return 1
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 3) {
    throw new ItemWriteError(400, '"priority" must be 1, 2 or 3')
  }
  return number
}

interface Query {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>
}

async function inTransaction(run: (tx: Query) => Promise<string | undefined>): Promise<WriteResult> {
  const { source } = await database()
  try {
    return await source.db.transaction(async (tx) => {
      const id = await run(tx)
      const { rows } = await tx.query<{ txid: string }>('SELECT pg_current_xact_id()::xid::text AS txid')
      const txid = rows[0]?.txid
      if (txid === undefined) throw new Error('no txid')
      return id === undefined ? { txid } : { txid, id }
    })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === '23514' || code === '23505') {
      throw new ItemWriteError(422, `The database refused it: ${(error as Error).message}`)
    }
    throw error
  }
}

/** Inserts an item; `id` is the browser's (so its optimistic row keeps its key) or the sequence's. */
export function insertItem(input: { id?: unknown; title: unknown; priority?: unknown }): Promise<WriteResult> {
  const id = input.id === undefined || input.id === null || input.id === '' ? undefined : parseId(input.id)
  const title = parseTitle(input.title)
  const priority = parsePriority(input.priority)
  return inTransaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO items (id, title, priority, payload)
       VALUES (COALESCE($1::int8, nextval('items_id_seq')), $2, $3, jsonb_build_object('tags', jsonb_build_array('new')))
       RETURNING id::text AS id`,
      [id ?? null, title, priority],
    )
    return rows[0]?.id
  })
}

/** Flips `done` of item `id`; a missing item is a 404 (W2). */
export function toggleItem(input: { id: unknown }): Promise<WriteResult> {
  const id = parseId(input.id)
  return inTransaction(async (tx) => {
    const { affectedRows } = await tx.query('UPDATE items SET done = NOT done WHERE id = $1::int8', [id])
    if (!affectedRows) throw new ItemWriteError(404, `item ${id} does not exist (any more)`)
    return undefined
  })
}

/** Deletes item `id`; a missing item is a 404 (W2). */
export function deleteItem(input: { id: unknown }): Promise<WriteResult> {
  const id = parseId(input.id)
  return inTransaction(async (tx) => {
    const { affectedRows } = await tx.query('DELETE FROM items WHERE id = $1::int8', [id])
    if (!affectedRows) throw new ItemWriteError(404, `item ${id} does not exist (any more)`)
    return undefined
  })
}
