/**
 * The body of a non-live `GET /v1/shape` answer: the JSON array of its messages, encoded as the reader takes it.
 *
 * Invariants:
 * - The messages are the shape log's own strings (shared by every request of the shape), so what a response adds
 *   to memory is the bytes it has encoded and the reader has not taken: at most one piece of `pieceBytes` (plus one
 *   message longer than that) per response, whatever the chunk size. A client that reads slowly or not at all
 *   therefore holds one piece, not a copy of a 10 MiB chunk (nodeAdapter.ts stops pulling while its socket is full).
 * - The bytes are exactly `[m1,m2,…]`: the same text a single `JSON` string of the array would be.
 * - A body no longer than one piece is answered as one string (a known length, no stream machinery).
 */

/** Bytes of message text encoded per pull (before UTF-8 expansion). */
const PIECE_CHARS = 64 * 1024

/** `[m1,m2,…]` as a response body: a string when short, else a pull stream of pieces (see above). */
export function jsonArrayBody(messages: readonly string[]): string | ReadableStream<Uint8Array> {
  let total = 2
  for (const message of messages) {
    total += message.length + 1
    if (total > PIECE_CHARS) return streamedArray(messages)
  }
  return `[${messages.join(',')}]`
}

function streamedArray(messages: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let next = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        let piece = next === 0 ? '[' : ''
        let chars = 0
        while (next < messages.length && chars < PIECE_CHARS) {
          const message = messages[next] as string
          piece += next === 0 ? message : `,${message}`
          chars += message.length + 1
          next++
        }
        if (next === messages.length) {
          controller.enqueue(encoder.encode(`${piece}]`))
          controller.close()
          return
        }
        controller.enqueue(encoder.encode(piece))
      },
    },
    // Pull only when the reader has taken what was queued: nothing is encoded ahead of the reader.
    { highWaterMark: 0 },
  )
}
