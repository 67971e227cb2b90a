/**
 * `/api/items`: writes to the `items` table. The page never reads what these return: it sees its own writes the
 * way it sees everyone else's, through the shape.
 *
 *   POST   { "title": "…", "priority": 2 }   insert
 *   PATCH  { "id": "3" }                      toggle done
 *   DELETE { "id": "3" }                      delete
 */
import { database } from '../../../lib/database'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

class BadRequest extends Error {}

async function body(request: Request): Promise<Record<string, unknown>> {
  const parsed: unknown = await request.json().catch(() => undefined)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRequest('expected a JSON object')
  return parsed as Record<string, unknown>
}

function id(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !/^\d{1,18}$/.test(text)) throw new BadRequest('"id" must be a positive integer')
  return text
}

function title(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new BadRequest('"title" must be a non-empty string of at most 200 characters')
  }
  return value.trim()
}

function priority(value: unknown): number {
  if (value === undefined) return 1
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3) {
    throw new BadRequest('"priority" must be 1, 2 or 3')
  }
  return value
}

async function write(request: Request, run: (input: Record<string, unknown>) => Promise<unknown>): Promise<Response> {
  try {
    const result = await run(await body(request))
    return Response.json(result ?? { ok: true })
  } catch (error) {
    if (error instanceof BadRequest) return Response.json({ message: error.message }, { status: 400 })
    throw error
  }
}

export function POST(request: Request): Promise<Response> {
  return write(request, async (input) => {
    const { source } = await database()
    const { rows } = await source.db.query<{ id: string }>(
      `INSERT INTO items (id, title, priority, payload)
       VALUES (nextval('items_id_seq'), $1, $2, jsonb_build_object('tags', jsonb_build_array('new')))
       RETURNING id::text AS id`,
      [title(input['title']), priority(input['priority'])],
    )
    return { id: rows[0]?.id }
  })
}

export function PATCH(request: Request): Promise<Response> {
  return write(request, async (input) => {
    const { source } = await database()
    const { affectedRows } = await source.db.query('UPDATE items SET done = NOT done WHERE id = $1::int8', [id(input['id'])])
    return { updated: affectedRows ?? 0 }
  })
}

export function DELETE(request: Request): Promise<Response> {
  return write(request, async (input) => {
    const { source } = await database()
    const { affectedRows } = await source.db.query('DELETE FROM items WHERE id = $1::int8', [id(input['id'])])
    return { deleted: affectedRows ?? 0 }
  })
}
