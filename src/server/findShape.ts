/**
 * Which shape answers a `/v1/shape` GET, or the refusal that answers it instead (protocol §6).
 *
 * Invariants:
 * - A request whose `handle` names a live shape that the same request key (shapeDefinition.ts: `requestKey`) resolved
 *   to before is answered by that shape as it is: no catalog query and no `where` compilation, which every long-poll
 *   and SSE reconnect would otherwise repeat. A deleted or rotated shape is no longer live (shapeRegistry.ts forgets
 *   its request keys), so its handle falls through to full resolution (next rule) and gets its 409.
 * - Any other request resolves its definition against the source, finds or creates the shape for it and
 *   remembers its request key for the shortcut above. A `handle` that names a live shape of another definition gets
 *   400; any other
 *   handle but the shape's own gets 409 with the shape's handle. A creation whose snapshot fails on the data (a
 *   `where` raising SQLSTATE class 22 on some row: see dataException.ts) gets 400 `errors.where`, since repeating it
 *   fails the same way; any other failure to describe the table or create the shape gets 503 with `retry-after` and a
 *   generic message, its error going to the handler's `onError` unless the request was aborted (a client that
 *   disconnected while its shape was created is no server failure).
 * - The shortcut and full resolution find the same shape for the same request while the table's description is
 *   unchanged. A schema change of the table deletes its shapes when the source delivers it (source.ts, on schema
 *   changes: at the ALTER's commit on PGlite, with the table's next write on PostgreSQL), so the shortcut then finds
 *   none and full resolution describes the table again. Until then a shape keeps its old description. A change that
 *   commits between the resolution's description and the shape's snapshot is caught twice over: delivered while the
 *   snapshot runs, it deletes the new shape (shapeRegistry.ts: a change buffered during a snapshot deletes the new
 *   shape); delivered earlier, before the shape listened, the snapshot itself refuses the stale description
 *   (describeTable.ts: a snapshot checks its description) and the request gets 503.
 * - The shortcut holds only while the source works (source.ts: a failed source reports `failure()`): a request that
 *   finds a shape of a failed source deletes it and resolves in full, where the source's error refuses it, instead of
 *   serving the frozen shape as up to date.
 */
import type { HandlerContext } from './handlerContext'
import type { ShapeQuery } from './requestParams'
import { badRequest, errorResponse, mustRefetch, serverError } from './responses'
import { requestKey, resolveShapeDefinition } from './shapeDefinition'
import type { ShapeDefinition } from './shapeDefinition'
import type { HeldShape } from './shapeRegistry'
import { isDataException } from './sources/dataException'

/**
 * The shape that answers `query`, held for the request (shapeRegistry.ts eviction: release it when the response is
 * complete), or the response that refuses it.
 * @example
 * const found = await findShape(request, context, query)
 * if (found instanceof Response) return found
 * try { return await serve(found.log) } finally { found.release() }
 */
export async function findShape(request: Request, context: HandlerContext, query: ShapeQuery): Promise<HeldShape | Response> {
  const key = requestKey(query)
  const known = query.handle === undefined ? undefined : context.registry.resolvedRequest(query.handle, key)
  if (known !== undefined) {
    if (context.options.source.failure?.() === undefined) return { log: known, release: context.registry.hold(known) }
    // A failed source: the shape will never change again; its waiters wake and this request meets the source's
    // error in full resolution.
    context.registry.delete(known)
  }

  let definition: ShapeDefinition
  let held: HeldShape
  try {
    const resolved = await resolveShapeDefinition(query, context.options.source, context.options.access, context.options.whereLimits)
    if (!resolved.ok) return badRequest(request, resolved.errors)
    definition = resolved.value
    held = await context.registry.acquire(definition, request.signal)
  } catch (error) {
    // The client's own `where` failing on a row is its to fix; retrying it would fail forever.
    if (isDataException(error)) return badRequest(request, { where: [firstLine(error.message)] })
    // A client that left (its signal aborted the creation it waited for) is no failure of the server's.
    if (!request.signal.aborted) context.reportError(error, request)
    return serverError(request, 503, 'Could not create the shape', { 'retry-after': '1' })
  }
  const current = held.log
  context.registry.rememberRequest(current, key)
  if (query.handle === undefined || query.handle === current.handle) return held
  held.release()
  const other = context.registry.byHandle(query.handle)
  if (other && other.definition.key !== definition.key) {
    return errorResponse(request, 400, {
      message:
        'The specified shape definition and handle do not match. Please ensure the shape definition is correct ' +
        'or omit the shape handle from the request to obtain a new one.',
    })
  }
  return mustRefetch(request, current.handle)
}

/** The database's message without what follows its first line (a `DETAIL`, a `HINT`, a query excerpt). */
function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? ''
}
