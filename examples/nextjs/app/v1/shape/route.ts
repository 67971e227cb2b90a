/**
 * `/v1/shape`: the live-shapes dev handler mounted as a Next route. It speaks Electric's shape protocol
 * (snapshot, long-poll and SSE live modes), answering from the process's embedded PGlite.
 *
 * Invariant:
 * - An SSE answer starts with a keep-alive comment. Next sends a route's status and headers only with the
 *   first body chunk, so a live SSE request with nothing new to say would otherwise leave the browser without a
 *   response until the handler's first keep-alive (~20 s). Comments are ignored by SSE parsers.
 */
import { database } from '../../../lib/database'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

const OPENING_COMMENT = new TextEncoder().encode(': keep-alive\n\n')

function startAtOnce(response: Response): Response {
  const type = response.headers.get('content-type') ?? ''
  if (response.body === null || !type.startsWith('text/event-stream')) return response
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({ start: (controller) => controller.enqueue(OPENING_COMMENT) }),
  )
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}

async function serve(request: Request): Promise<Response> {
  const { handler } = await database()
  return startAtOnce(await handler(request))
}

export { serve as GET, serve as POST, serve as OPTIONS }
