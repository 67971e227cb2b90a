/**
 * Long-poll bodies: a JSON array of protocol messages, read whole or as a stream.
 *
 * Invariants:
 * - A body that is not JSON, not an array, or holds an element that is not a message object is a
 *   `MalformedResponseError` (retryable) and nothing of it is returned (see errors.ts: raising an error leaves the
 *   store exactly as it was). So is a blank body: a server always sends an array (`[]` at least; "no content" is a
 *   204, which never gets here), and a body a proxy cut to nothing, read as no messages, would move the stream to
 *   its headers' offset and lose what the body carried.
 * - Reading as a stream gives exactly the result of `parseMessageArray` on the whole text, and rejects exactly
 *   the same bodies; a body in Electric's compact form is parsed piece by piece as it arrives, so a 10 MiB chunk
 *   never exists as one string and the text of a message dies young (peak heap during a sync). A rejected body's
 *   stream is cancelled.
 * - Parsing per piece (one `JSON.parse` up to a guessed boundary) is only an optimisation: text no guess could
 *   split is parsed whole at the end, so streaming gives the whole-text result for any body (see
 *   `MessageArraySplitter`).
 * - With `onGroup`, each group of whole messages parsed before the end is offered to it in order; a group it
 *   takes (returns true) is not part of the result. Once it declines one, it is not asked again, so the messages it
 *   took always precede the ones returned. A body that turns out malformed still rejects: the caller, which took
 *   the groups, must undo what it did with them (the stream does: see shapeStore.ts on staging).
 * - Reading yields: with a `Yielder`, text is pushed to the splitter in pieces of at most `PIECE_CHARS` characters
 *   (a network chunk or a body the platform hands over whole), and between two pieces the reader yields once the
 *   yielder is due. Yielding only ever happens between pieces, where the splitter holds whole elements only, so the
 *   outcome does not depend on where it yielded; a body that never comes in more than one piece per slice
 *   never yields.
 */
import type { Message, WireRow } from './protocol'
import { abortReason } from './clock'
import { MalformedResponseError, NetworkError } from './errors'
import type { Yielder } from './yielder'

/**
 * Longest text pushed to the splitter at once: a guess boundary is looked for in each piece, so this bounds the text
 * one `JSON.parse` (and the staging of its rows) handles in one go, to a few ms on a slow device.
 */
const PIECE_CHARS = 64 * 1024

/**
 * Reads a body that is a JSON array of messages, parsing each element as soon as its last byte arrived, with
 * the same outcome as `parseMessageArray` on the whole text: the messages, or `MalformedResponseError`.
 */
export async function readMessageArray(
  body: ReadableStream<Uint8Array>,
  url: string,
  signal: AbortSignal,
  onGroup?: (messages: Message<WireRow>[]) => boolean,
  yielder?: Yielder,
): Promise<Message<WireRow>[]> {
  const reader = body.getReader()
  const splitter = new MessageArraySplitter(url, onGroup)
  const decoder = new TextDecoder()
  yielder?.start()
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (error) {
        if (signal.aborted) throw abortReason(signal)
        throw new NetworkError(url, error)
      }
      if (chunk.done) break
      const text = decoder.decode(chunk.value, { stream: true })
      if (yielder === undefined) splitter.push(text)
      else await pushInSlices(splitter, text, yielder, signal)
    }
    splitter.push(decoder.decode())
    return splitter.end()
  } catch (error) {
    await reader.cancel().catch(() => undefined)
    throw error
  }
}

/** Pushes `text` in pieces of at most `PIECE_CHARS`, yielding before a piece once the yielder is due. */
async function pushInSlices(splitter: MessageArraySplitter, text: string, yielder: Yielder, signal: AbortSignal): Promise<void> {
  for (let start = 0; start < text.length; start += PIECE_CHARS) {
    if (yielder.due()) {
      await yielder.yield()
      if (signal.aborted) throw abortReason(signal)
    }
    splitter.push(start === 0 && text.length <= PIECE_CHARS ? text : text.slice(start, start + PIECE_CHARS))
  }
}

/** Failed guesses in a row after which a body is read whole: bounds the work a malformed body costs. */
const MAX_FAILED_GUESSES = 4

/**
 * Splits the text of a JSON array of messages, fed in pieces, into its elements.
 *
 * Fast mode: a piece's last `},{` is a guess at the end of an element; the text up to it is parsed in one
 * `JSON.parse` as an array. A guess that parses is right: JSON is read left to right without look-ahead, so text that
 * parses once `]` is appended ends between two top-level elements (a cut inside a string or a nested value cannot
 * parse). A guess that fails (a `},{` inside a string) leaves the text unparsed for the next piece's guess; after
 * `MAX_FAILED_GUESSES` failures in a row (a malformed body, where every later guess would fail too) the splitter
 * stops guessing. Whatever is left is parsed in one `JSON.parse` at the end, which decides exactly as parsing the
 * whole body would, because the text before it was already proven to be whole elements. A body with whitespace
 * between its elements never matches `},{` and is parsed whole at the end.
 */
class MessageArraySplitter {
  readonly #url: string
  #messages: Message<WireRow>[] = []
  #failedGuesses = 0
  /** Messages accepted so far, including those handed to `onGroup`: the index error messages name. */
  #accepted = 0
  #onGroup: ((messages: Message<WireRow>[]) => boolean) | undefined
  /** The text not parsed yet, which starts at the body's start or just after a `,` between elements. */
  #unparsed: string[] = []
  #atBodyStart = true

  constructor(url: string, onGroup?: (messages: Message<WireRow>[]) => boolean) {
    this.#url = url
    this.#onGroup = onGroup
  }

  push(text: string): void {
    this.#unparsed.push(text)
    if (this.#failedGuesses >= MAX_FAILED_GUESSES) return
    const guess = text.lastIndexOf('},{')
    if (guess < 0) return
    const joined = this.#unparsed.length === 1 ? text : this.#unparsed.join('')
    const end = joined.length - text.length + guess + 1
    const group = joined.slice(0, end)
    let values: unknown
    try {
      values = JSON.parse(this.#atBodyStart ? group + ']' : '[' + group + ']')
    } catch {
      values = undefined
    }
    if (!Array.isArray(values)) {
      this.#failedGuesses += 1
      this.#unparsed = [joined]
      return
    }
    this.#failedGuesses = 0
    this.#accept(values)
    this.#unparsed = [joined.slice(end + 1)]
    this.#atBodyStart = false
    // Only a group with nothing before it still held can be handed over, so order is kept.
    if (this.#onGroup !== undefined && this.#messages.length === values.length) {
      if (this.#onGroup(this.#messages)) this.#messages = []
      else this.#onGroup = undefined
    }
  }

  /** Parses what is left, plus `last` (no boundary guess on it), and returns the messages not handed over. */
  end(last = ''): Message<WireRow>[] {
    if (last !== '') this.#unparsed.push(last)
    const text = this.#unparsed.join('')
    this.#unparsed = []
    if (this.#atBodyStart && text.trim() === '') throw new MalformedResponseError(this.#url, 'the body is empty')
    let values: unknown
    try {
      values = JSON.parse(this.#atBodyStart ? text : '[' + text)
    } catch (cause) {
      throw new MalformedResponseError(this.#url, 'the body is not valid JSON', { cause })
    }
    if (!Array.isArray(values)) throw new MalformedResponseError(this.#url, 'the body is not a JSON array of messages')
    this.#accept(values)
    return this.#messages
  }

  #accept(values: unknown[]): void {
    for (let i = 0; i < values.length; i++) {
      const message: unknown = values[i]
      if (!isMessageShaped(message)) {
        // A value JSON.parse made always stringifies.
        const shown = (JSON.stringify(message) as string).slice(0, 200)
        throw new MalformedResponseError(this.#url, `message ${this.#accepted + i} is not a protocol message: ${shown}`)
      }
    }
    this.#accepted += values.length
    // The array JSON.parse made is ours: with nothing held before it, it becomes the held list instead of a copy.
    if (this.#messages.length === 0) this.#messages = values as Message<WireRow>[]
    else for (let i = 0; i < values.length; i++) this.#messages.push(values[i] as Message<WireRow>)
  }
}

/** Parses a long-poll body into messages, or throws `MalformedResponseError`. */
export function parseMessageArray(text: string, url: string): Message<WireRow>[] {
  return new MessageArraySplitter(url).end(text)
}

function isMessageShaped(message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false
  const headers = (message as { headers?: unknown }).headers
  if (typeof headers !== 'object' || headers === null) return false
  if ('control' in headers) return typeof (headers as { control: unknown }).control === 'string'
  const { key, value } = message as { key?: unknown; value?: unknown }
  const operation = (headers as { operation?: unknown }).operation
  return typeof key === 'string' && typeof value === 'object' && value !== null && typeof operation === 'string'
}
