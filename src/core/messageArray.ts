/**
 * Long-poll bodies: a JSON array of protocol messages, read whole or as a stream.
 *
 * Invariants:
 * - MA1. A body that is not JSON, not an array, or holds an element that is not a message object is a
 *   `MalformedResponseError` (retryable) and nothing of it is returned (errors.ts E2). Blank text is no messages.
 * - MA2. Reading as a stream gives exactly the result of `parseMessageArray` on the whole text, and rejects exactly
 *   the same bodies; elements are parsed as soon as they are complete, so a 10 MiB chunk never exists as one string
 *   and the text of a message dies young (peak heap during a sync). A rejected body's stream is cancelled.
 * - MA3. The fast path (one `JSON.parse` per piece, split at a guessed boundary) is only an optimisation: whenever a
 *   guess fails, the character-exact scanner takes over, so MA2 holds for any body (see `MessageArraySplitter`).
 */
import type { Message, WireRow } from './protocol'
import { abortReason } from './clock'
import { MalformedResponseError, NetworkError } from './errors'

/**
 * Reads a body that is a JSON array of messages, parsing each element as soon as its last byte arrived (MA2), with
 * the same outcome as `parseMessageArray` on the whole text: the messages, or `MalformedResponseError` (MA1).
 */
export async function readMessageArray(body: ReadableStream<Uint8Array>, url: string, signal: AbortSignal): Promise<Message<WireRow>[]> {
  const reader = body.getReader()
  const splitter = new MessageArraySplitter(url)
  const decoder = new TextDecoder()
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
      splitter.push(decoder.decode(chunk.value, { stream: true }))
    }
    splitter.push(decoder.decode())
    return splitter.end()
  } catch (error) {
    await reader.cancel().catch(() => undefined)
    throw error
  }
}

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const COMMA = 0x2c
const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/**
 * Splits the text of a JSON array of objects, fed in pieces, into its elements (MA2, MA3).
 *
 * Fast mode: a piece's last `},{` is a guess at the end of an element; the text up to it is parsed in one
 * `JSON.parse` as an array. A guess that parses is right: JSON is read left to right without look-ahead, so text that
 * parses once `]` is appended ends between two top-level elements (a cut inside a string or a nested value cannot
 * parse). A guess that fails (a `},{` inside a string, or a malformed body) switches to exact mode for the rest of
 * the body, starting from the text not yet parsed.
 *
 * Exact mode checks the array's own syntax (brackets, commas, whitespace) and string/bracket nesting to find where
 * each element ends; `JSON.parse` checks each element. An element that is not an object cannot be a message, so it
 * is rejected where it starts.
 */
class MessageArraySplitter {
  readonly #url: string
  readonly #messages: Message<WireRow>[] = []
  /** Bracket depth: 0 outside the array, 1 between elements, more inside an element. */
  #depth = 0
  #inString = false
  #escaped = false
  #state: 'before' | 'first' | 'value' | 'comma' | 'after' = 'before'
  /** Text of the element in progress that arrived in earlier pieces. */
  #parts: string[] = []
  #mode: 'fast' | 'exact' = 'fast'
  /** Fast mode: the text not parsed yet, which starts at the body's start or just after a `,` between elements. */
  #unparsed: string[] = []
  #atBodyStart = true

  constructor(url: string) {
    this.#url = url
  }

  push(text: string): void {
    if (this.#mode === 'exact') return this.#scan(text)
    this.#unparsed.push(text)
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
    if (!Array.isArray(values)) return this.#toExact(joined)
    this.#accept(values, group)
    this.#unparsed = [joined.slice(end + 1)]
    this.#atBodyStart = false
  }

  end(): Message<WireRow>[] {
    if (this.#mode === 'exact') return this.#endExact()
    const text = this.#unparsed.join('')
    this.#unparsed = []
    if (this.#atBodyStart && text.trim() === '') return this.#messages
    let values: unknown
    try {
      values = JSON.parse(this.#atBodyStart ? text : '[' + text)
    } catch (cause) {
      throw new MalformedResponseError(this.#url, 'the body is not valid JSON', { cause })
    }
    if (!Array.isArray(values)) throw this.#malformed('the body is not a JSON array of messages')
    this.#accept(values, text)
    return this.#messages
  }

  #accept(values: unknown[], text: string): void {
    for (let i = 0; i < values.length; i++) {
      const message: unknown = values[i]
      if (!isMessageShaped(message)) {
        const shown = JSON.stringify(message)?.slice(0, 200) ?? text.slice(0, 200)
        throw this.#malformed(`message ${this.#messages.length} is not a protocol message: ${shown}`)
      }
      this.#messages.push(message as Message<WireRow>)
    }
  }

  #toExact(unparsed: string): void {
    this.#mode = 'exact'
    this.#unparsed = []
    if (!this.#atBodyStart) {
      this.#depth = 1
      this.#state = 'value'
    }
    this.#scan(unparsed)
  }

  #scan(text: string): void {
    const n = text.length
    // Hot loop: state lives in locals and is written back at the end of the piece.
    let depth = this.#depth
    let inString = this.#inString
    let escaped = this.#escaped
    let start = depth > 1 ? 0 : -1
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      if (depth > 1) {
        if (inString) {
          // Only a string that began in an earlier piece is scanned character by character.
          if (escaped) escaped = false
          else if (c === BACKSLASH) escaped = true
          else if (c === QUOTE) inString = false
        } else if (c === QUOTE) {
          const close = closingQuote(text, i)
          if (close < 0) {
            inString = true
            escaped = backslashesBefore(text, n, i + 1) % 2 === 1
            i = n
          } else {
            i = close
          }
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          depth++
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (--depth === 1) {
            this.#element(text.slice(start, i + 1))
            start = -1
          }
        }
        continue
      }
      if (c === SPACE || c === LF || c === CR || c === TAB) continue
      const state = this.#state
      if (state === 'before') {
        if (c !== OPEN_BRACKET) throw this.#malformed('the body is not a JSON array of messages')
        depth = 1
        this.#state = 'first'
      } else if (state === 'after') {
        throw this.#malformed('the body is not valid JSON: text after the array')
      } else if (c === CLOSE_BRACKET && state !== 'value') {
        depth = 0
        this.#state = 'after'
      } else if (c === COMMA && state === 'comma') {
        this.#state = 'value'
      } else if (state === 'comma') {
        throw this.#malformed('the body is not valid JSON: expected "," or "]" between messages')
      } else if (c === OPEN_BRACE) {
        depth = 2
        start = i
      } else {
        throw this.#malformed(`message ${this.#messages.length} is not a protocol message (not an object)`)
      }
    }
    this.#depth = depth
    this.#inString = inString
    this.#escaped = escaped
    if (start >= 0) this.#parts.push(start === 0 ? text : text.slice(start))
  }

  #endExact(): Message<WireRow>[] {
    if (this.#state === 'before') return this.#messages
    if (this.#state !== 'after') throw this.#malformed('the body is not valid JSON: it ends inside the array')
    return this.#messages
  }

  #element(last: string): void {
    let text = last
    if (this.#parts.length > 0) {
      this.#parts.push(last)
      text = this.#parts.join('')
      this.#parts = []
    }
    this.#state = 'comma'
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch (cause) {
      throw new MalformedResponseError(this.#url, `message ${this.#messages.length} is not valid JSON`, { cause })
    }
    if (!isMessageShaped(message)) {
      throw this.#malformed(`message ${this.#messages.length} is not a protocol message: ${text.slice(0, 200)}`)
    }
    this.#messages.push(message as Message<WireRow>)
  }

  #malformed(reason: string): MalformedResponseError {
    return new MalformedResponseError(this.#url, reason)
  }
}

/** Index of the quote closing the string opened at `open`, or -1 if it closes in a later piece. */
function closingQuote(text: string, open: number): number {
  let from = open + 1
  for (;;) {
    const quote = text.indexOf('"', from)
    if (quote < 0) return -1
    if (backslashesBefore(text, quote, open + 1) % 2 === 0) return quote
    from = quote + 1
  }
}

/** Parses a long-poll body into messages, or throws `MalformedResponseError` (MA1). */
export function parseMessageArray(text: string, url: string): Message<WireRow>[] {
  if (text.trim() === '') return []
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (cause) {
    throw new MalformedResponseError(url, 'the body is not valid JSON', { cause })
  }
  if (!Array.isArray(body)) throw new MalformedResponseError(url, 'the body is not a JSON array of messages')
  for (let index = 0; index < body.length; index++) {
    const message: unknown = body[index]
    if (!isMessageShaped(message)) {
      throw new MalformedResponseError(url, `message ${index} is not a protocol message: ${JSON.stringify(message)?.slice(0, 200)}`)
    }
  }
  return body as Message<WireRow>[]
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

/** How many backslashes immediately precede index `end`, looking no further back than `from`. */
function backslashesBefore(text: string, end: number, from: number): number {
  let i = end - 1
  while (i >= from && text.charCodeAt(i) === BACKSLASH) i--
  return end - 1 - i
}
