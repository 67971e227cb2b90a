/**
 * Reading a request body with a byte cap, so no request makes the server hold more than the cap in memory.
 *
 * Invariants:
 * - A declared `content-length` above the cap is refused before a byte of the body is read.
 * - Otherwise the body is read chunk by chunk with a running count; as soon as the count passes the cap the rest is
 *   cancelled (the node adapter then stops reading the socket) and the body is refused.
 * - A body that fails while being read (the client went away, a broken chunked encoding) is refused as unreadable,
 *   never thrown.
 */

/** The default of the handler's `maxBodyBytes`: 1 MiB, far above any subset request a client sends. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

export type BodyResult = { ok: true; text: string } | { ok: false; reason: 'too-large' | 'unreadable' }

/**
 * The body of `request` as UTF-8 text, or why it was refused (see the invariants above).
 * @example
 * const body = await readBodyText(request, 1024 * 1024)
 * if (!body.ok) return errorResponse(request, body.reason === 'too-large' ? 413 : 400, { message: 'Request body too large' })
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<BodyResult> {
  const declared = request.headers.get('content-length')
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > maxBytes) {
    await discard(request)
    return { ok: false, reason: 'too-large' }
  }
  if (request.body === null) return { ok: true, text: '' }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined)
        return { ok: false, reason: 'too-large' }
      }
      chunks.push(value)
    }
  } catch {
    await reader.cancel().catch(() => undefined)
    return { ok: false, reason: 'unreadable' }
  }
  const decoder = new TextDecoder()
  let text = ''
  for (const chunk of chunks) text += decoder.decode(chunk, { stream: true })
  return { ok: true, text: text + decoder.decode() }
}

/** Cancels a body nobody will read, so its producer stops. */
export async function discard(request: Request): Promise<void> {
  if (request.body !== null && !request.bodyUsed && !request.body.locked) await request.body.cancel().catch(() => undefined)
}
