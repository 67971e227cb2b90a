/**
 * Server-sent events over a `fetch` body: a byte stream in, the `data` payload of each event out.
 *
 * Invariants:
 * - Framing is `@microsoft/fetch-event-source`'s own line and field parser (`getLines`, `getMessages`): CR, LF
 *   and CRLF line ends (also split across chunks), multi-line `data` joined with `\n`, comment lines (`: keep-alive`)
 *   ignored, `event:`/`id:`/`retry:` tolerated and dropped. Bytes are joined before decoding, so a UTF-8 character
 *   split across chunks arrives whole.
 * - An event is yielded only once its blank line arrived; an unterminated event at end of stream is discarded
 *   (as the SSE spec says), never yielded half-read. Events with no data (a bare blank line after a comment) are
 *   not yielded.
 * - Aborting `signal` cancels the body at once: the pending read settles, the generator returns, and its abort
 *   listener is removed. Leaving the loop early (break or throw in the consumer) cancels the body too. Nothing
 *   outlives the generator: no timer, no listener, no reader lock on a live stream.
 * - `onChunk`, when given, is called for every chunk read, comment-only ones (`: keep-alive`) included: a
 *   caller's heartbeat sees every sign of life, not only events.
 * - No globals beyond `TextDecoder` (inside the library): runs in Node, browsers, workers and jsdom unchanged.
 *
 * Why the deep import: the package's entry point re-exports only `fetchEventSource`, which needs `document` and
 * `window` (it fails in plain Node), and its package.json has no `exports` map, so subpaths are importable. The CJS
 * build is used because the package has no `"type": "module"`: its `lib/esm/*.js` files are ESM syntax in a CommonJS
 * scope, which Node before 20.19 refuses to load; the CJS file loads everywhere (Node `import` and `require`,
 * bundlers) and exposes its named exports statically. Its `getBytes` is not used: it owns the stream reader and so
 * cannot be cancelled from outside, which aborting `signal` needs.
 */
import { getLines, getMessages } from '@microsoft/fetch-event-source/lib/cjs/parse.js'

const ignore = (): void => undefined
const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

/**
 * Reads an SSE body and yields each event's `data` until the stream ends or `signal` aborts.
 * A read error that is not an abort (a reset socket) is thrown from the iteration.
 * @example
 * for await (const data of readSseData(response.body, { signal })) console.log(JSON.parse(data))
 */
export async function* readSseData(
  body: ReadableStream<Uint8Array>,
  options: { signal?: AbortSignal; onChunk?: () => void } = {},
): AsyncGenerator<string, void, undefined> {
  const { signal, onChunk: onBytes } = options
  const reader = body.getReader()
  let ready: string[] = []
  const onChunk = getLines(
    getMessages(ignore, ignore, (message) => {
      if (message.data !== '') ready.push(message.data)
    }),
  )
  const cancel = (): void => {
    reader.cancel(signal?.reason).catch(ignore)
  }
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    while (!aborted(signal)) {
      const chunk = await reader.read()
      if (chunk.done || aborted(signal)) return
      onBytes?.()
      onChunk(chunk.value)
      if (ready.length === 0) continue
      const events = ready
      ready = []
      for (const data of events) {
        yield data
        if (aborted(signal)) return
      }
    }
  } finally {
    signal?.removeEventListener('abort', cancel)
    reader.cancel().catch(ignore)
    reader.releaseLock()
  }
}
