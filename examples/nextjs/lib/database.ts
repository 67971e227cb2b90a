/**
 * The app's database: one embedded PGlite per server process, with the shape handler that serves it.
 *
 * Invariants:
 * - D1. One database per process, opened on first use and shared by every route through `globalThis` (Next may
 *   load this module once per route bundle; two PGlite instances would be two different databases).
 * - D2. Only the database and its shape handler live here: no rows, snapshots or client streams are cached at
 *   module level. Pages create their own `ShapeClient` per request.
 * - D3. A failed start is not remembered: the next request tries again.
 * - D4. The database, not the API, refuses a title containing "forbidden" (a CHECK constraint): the example's way
 *   to show an optimistic row rolled back by a write that failed where only the database could tell.
 */
import 'server-only'
import { createPGliteSource, createShapeHandler } from 'live-shapes/server'
import type { PGliteSource, ShapeHandler } from 'live-shapes/server'

/** The database and its `/v1/shape` handler. */
export interface Database {
  readonly source: PGliteSource
  readonly handler: ShapeHandler
}

const KEY = Symbol.for('live-shapes.example.nextjs.database')

type Holder = { [KEY]?: Promise<Database> }

const SEED_SQL = `
CREATE TABLE IF NOT EXISTS items (
  id int8 PRIMARY KEY,
  title text NOT NULL CONSTRAINT items_title_check CHECK (title !~* 'forbidden'),
  priority int4 NOT NULL DEFAULT 1,
  done bool NOT NULL DEFAULT false,
  payload jsonb
);
CREATE SEQUENCE IF NOT EXISTS items_id_seq OWNED BY items.id;
INSERT INTO items (id, title, priority, done, payload) VALUES
  (1, 'Read the shape protocol', 1, true, '{"tags": ["docs"]}'),
  (2, 'Render the list on the server', 2, false, '{"tags": ["ssr"]}'),
  (3, 'Hydrate without refetching', 2, false, '{"tags": ["ssr", "hydration"]}'),
  (4, 'Watch a write come back live', 3, false, '{"tags": ["sse"]}')
ON CONFLICT (id) DO NOTHING;
SELECT setval('items_id_seq', (SELECT max(id) FROM items));
`

async function open(): Promise<Database> {
  const source = await createPGliteSource()
  try {
    await source.db.exec(SEED_SQL)
  } catch (error) {
    await source.close()
    throw error
  }
  return { source, handler: createShapeHandler({ source }) }
}

/**
 * The process's database, started and seeded on first call (D1–D3).
 *
 * @example
 * const { handler } = await database()
 * return handler(request)
 */
export function database(): Promise<Database> {
  const holder = globalThis as Holder
  const existing = holder[KEY]
  if (existing !== undefined) return existing
  const opening = open()
  holder[KEY] = opening
  opening.catch(() => {
    if (holder[KEY] === opening) delete holder[KEY]
  })
  return opening
}
