/**
 * How a stream's responses become store writes, and the state event that records each one.
 *
 * Invariants:
 * - One Schema per response: resolved once, when its headers arrive (the state's schema when the handle is the
 *   state's, else the response's `electric-schema` header), and used by the groups staged while the body is read
 *   and by the body's last part alike, so one compiled parser serves the whole response.
 * - The parser is compiled once per Schema object and dropped by `reset` (after a 409 the new handle may carry
 *   another schema).
 * - What a long-poll response staged is settled exactly once: kept just before its last part is applied,
 *   after the last check that can fail, or reverted by `discard` on any failure, stop or pause (see shapeStore.ts
 *   on staging, and errors.ts: raising an error leaves the store as it was). Once its request's signal aborted, a
 *   response stages nothing more.
 * - A non-live response that neither advances nor reaches the head, or a non-live 304, is an error, never
 *   applied: the same request would be sent again at once, forever (see shapeStream.ts: a request is never repeated
 *   at once without progress).
 */
import type { LiveBatch } from './liveRunner'
import type { MessageParser, MessageParserOptions } from './parse'
import type { Message, Schema, WireRow } from './protocol'
import type { ResponseMeta } from './responseMeta'
import type { RequestPosition } from './requestUrl'
import type { StreamEvent, StreamState } from './streamState'
import { MalformedResponseError } from './errors'
import { createMessageParser, parseSchemaHeader } from './parse'
import { isChangeMessage, isUpToDate } from './protocol'

/** Where a stream puts parsed messages; `ShapeStore` is one. */
export interface StreamSink<T> {
  /** Parsed messages of one response or live batch, applied atomically. */
  applyBatch(messages: readonly Message<T>[]): void
  /** A 409: drop pending rows (the published snapshot stays until the next up-to-date). */
  reset(): void
  /** Change messages of a response still being read: pending only, undoable (see `ShapeStore.stage`). */
  stage(messages: readonly Message<T>[]): void
  /** Keeps what was staged, or reverts it exactly. */
  settleStaged(keep: boolean): void
}

/** One long-poll response being read: its schema, resolved once when its headers arrive. */
export class ResponseReading<T> {
  readonly #state: StreamState
  readonly #signal: AbortSignal
  readonly #applier: ResponseApplier<T>
  #schema: { value: Schema | undefined } | undefined

  constructor(state: StreamState, signal: AbortSignal, applier: ResponseApplier<T>) {
    this.#state = state
    this.#signal = signal
    this.#applier = applier
  }

  /** The response's schema, resolved on first call. */
  schemaOf(meta: ResponseMeta): Schema | undefined {
    this.#schema ??= { value: schemaOf(this.#state, meta) }
    return this.#schema.value
  }

  /** Consumer of the body's leading change messages while the rest is read (see longPollTransport.ts on `stage`). */
  stager(meta: ResponseMeta): (messages: Message<WireRow>[]) => boolean {
    const schema = this.schemaOf(meta)
    return (messages) => {
      if (this.#signal.aborted) return false
      for (const message of messages) if (!isChangeMessage(message)) return false
      this.#applier.stage(schema, messages)
      return true
    }
  }
}

const SYNTHETIC_UP_TO_DATE: Message<WireRow> = { headers: { control: 'up-to-date' } }

/** The schema of a response without one: one object, so its compiled parser is reused. */
const NO_SCHEMA: Schema = Object.freeze({})

/**
 * Parses responses with the shape's parser options and applies them to a sink.
 * @example
 * const applier = new ResponseApplier(store, {})
 * const event = applier.applyLive(stream.getState(), batch, Date.now())
 */
export class ResponseApplier<T> {
  readonly #sink: StreamSink<T>
  readonly #options: MessageParserOptions<T>
  #parser: { schema: Schema; parser: MessageParser<T> } | undefined

  constructor(sink: StreamSink<T>, options: MessageParserOptions<T>) {
    this.#sink = sink
    this.#options = options
  }

  /** A long-poll response about to be read from `state` by a request aborted through `signal`. */
  begin(state: StreamState, signal: AbortSignal): ResponseReading<T> {
    return new ResponseReading(state, signal, this)
  }

  /** Stages change messages of a response still being read (see shapeStore.ts on staging). */
  stage(schema: Schema | undefined, messages: Message<WireRow>[]): void {
    this.#sink.stage(this.#parserFor(schema ?? NO_SCHEMA).parseMessages(messages))
  }

  /**
   * Applies a long-poll response whose body was read whole (its staged part included) and returns the state event
   * for it, timed by `now` once the batch is applied. Takes ownership of `messages` (the transport's fresh array):
   * it may append to it.
   */
  applyResponse(
    reading: ResponseReading<T>,
    response: { meta: ResponseMeta; messages: Message<WireRow>[] },
    position: RequestPosition,
    url: string,
    now: () => number,
  ): StreamEvent {
    const { meta, messages } = response
    const upToDate = meta.upToDate || messages.some(isUpToDate)
    if (!upToDate && !position.live && meta.offset === position.offset && meta.handle === position.handle) {
      throw new MalformedResponseError(url, `no progress: the response ends at the requested offset ${position.offset} without up-to-date`)
    }
    const schema = reading.schemaOf(meta)
    const last = messages[messages.length - 1]
    if (upToDate && (last === undefined || !isUpToDate(last))) messages.push(SYNTHETIC_UP_TO_DATE)
    const parsed = messages.length > 0 ? this.#parserFor(schema ?? NO_SCHEMA).parseMessages(messages) : []
    // Nothing can fail past this point: what was staged becomes part of the batch, settled exactly once.
    this.#sink.settleStaged(true)
    if (parsed.length > 0) this.#sink.applyBatch(parsed)
    return { type: 'response', handle: meta.handle, offset: meta.offset, cursor: meta.cursor, schema, upToDate, now: now() }
  }

  /** The state event for a live 304 (a cache revalidated what this client has); a non-live 304 is an error. */
  notModified(result: { cursor: string | undefined; handle: string | undefined }, position: RequestPosition, url: string, now: number): StreamEvent {
    if (!position.live || position.handle === undefined) {
      throw new MalformedResponseError(url, '304 Not Modified for a non-live request (a cache revalidated a response this client lacks)')
    }
    const handle = result.handle ?? position.handle
    return { type: 'response', handle, offset: position.offset, cursor: result.cursor, schema: undefined, upToDate: true, now }
  }

  /** Reverts whatever the response being read staged. */
  discard(): void {
    this.#sink.settleStaged(false)
  }

  /** Applies one live batch (a runner's, e.g. SSE) and returns the state event for it, timed once it is applied. */
  applyLive(state: StreamState, batch: LiveBatch, now: () => number): StreamEvent {
    const parsed = this.#parserFor(state.schema ?? NO_SCHEMA).parseMessages(batch.messages)
    if (parsed.length > 0) this.#sink.applyBatch(parsed)
    return {
      type: 'response',
      handle: state.handle ?? '',
      offset: batch.offset,
      cursor: state.cursor,
      schema: state.schema,
      upToDate: true,
      now: now(),
    }
  }

  /** A 409: the pending rows and the compiled parser go. */
  reset(): void {
    this.#sink.reset()
    this.#parser = undefined
  }

  /** A new starting position: the next response may carry another schema. */
  forgetParser(): void {
    this.#parser = undefined
  }

  #parserFor(schema: Schema): MessageParser<T> {
    if (this.#parser?.schema === schema) return this.#parser.parser
    const compiled = createMessageParser<T>(schema, this.#options)
    this.#parser = { schema, parser: compiled }
    return compiled
  }
}

/** The schema of a response: the state's when the response continues its handle, else its header's. */
function schemaOf(state: StreamState, meta: ResponseMeta): Schema | undefined {
  if (state.schema !== undefined && state.handle === meta.handle) return state.schema
  return meta.schema === undefined ? undefined : parseSchemaHeader(meta.schema)
}
