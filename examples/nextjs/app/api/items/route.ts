/**
 * `/api/items`: the JSON writes the page makes once JavaScript runs. Each answers `{ txid }`, the
 * `pg_current_xact_id()::xid` of its transaction, which the browser waits for in the shape to confirm its optimistic
 * rows (lib/itemWrites.ts, W1); a refused write answers `{ message }` with 400, 404 or 422, and the browser rolls
 * its optimistic rows back.
 *
 *   POST   { "title": "…", "priority": 2, "id"?: "…" }  insert
 *   PATCH  { "id": "3" }                                  toggle done
 *   DELETE { "id": "3" }                                  delete
 */
import { ItemWriteError, deleteItem, insertItem, toggleItem } from '../../../lib/itemWrites'
import type { WriteResult } from '../../../lib/itemWrites'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

async function write(request: Request, run: (input: Record<string, unknown>) => Promise<WriteResult>): Promise<Response> {
  try {
    const parsed: unknown = await request.json().catch(() => undefined)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ItemWriteError(400, 'expected a JSON object')
    return Response.json(await run(parsed as Record<string, unknown>))
  } catch (error) {
    if (error instanceof ItemWriteError) return Response.json({ message: error.message }, { status: error.status })
    throw error
  }
}

export function POST(request: Request): Promise<Response> {
  return write(request, (input) => insertItem({ id: input['id'], title: input['title'], priority: input['priority'] }))
}

export function PATCH(request: Request): Promise<Response> {
  return write(request, (input) => toggleItem({ id: input['id'] }))
}

export function DELETE(request: Request): Promise<Response> {
  return write(request, (input) => deleteItem({ id: input['id'] }))
}
