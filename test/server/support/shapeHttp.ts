/**
 * Talking to a shape handler in tests: plain requests, initial sync, live polling until a condition, SSE reading.
 * Everything waits on responses and stream reads (events), never on sleeps.
 */
import { expect } from 'vitest'
import type { Clock } from '../../../src/core/clock'
import { realClock } from '../../../src/core/clock'

export const SHAPE_URL = 'http://conformance.test/v1/shape'

export type Handler = (request: Request) => Promise<Response>

export interface ShapeResponse {
  status: number
  headers: Headers
  text: string
  /** Parsed body, or undefined when it is empty. */
  body: any
}

/** A change or control message as the tests read them. */
export type WireMessage = { key?: string; value?: Record<string, string | null>; old_value?: Record<string, string | null>; headers: Record<string, any> }

export function shapeUrl(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, value)
  return `${SHAPE_URL}?${search.toString()}`
}

export async function call(handler: Handler, url: string, init?: RequestInit): Promise<ShapeResponse> {
  const response = await handler(new Request(url, init))
  const text = await response.text()
  return { status: response.status, headers: response.headers, text, body: text === '' ? undefined : JSON.parse(text) }
}

export interface StreamPosition {
  handle: string
  offset: string
  cursor: string | undefined
}

/** Requests from `-1` until an up-to-date response; returns every message and the position. */
export async function initialSync(
  handler: Handler,
  params: Record<string, string | undefined>,
): Promise<{ position: StreamPosition; messages: WireMessage[]; responses: ShapeResponse[] }> {
  const responses: ShapeResponse[] = []
  let response = await call(handler, shapeUrl({ ...params, offset: '-1' }))
  expect(response.status, response.text).toBe(200)
  responses.push(response)
  const handle = response.headers.get('electric-handle') as string
  let offset = response.headers.get('electric-offset') as string
  for (let round = 0; round < 100 && !response.headers.has('electric-up-to-date'); round++) {
    response = await call(handler, shapeUrl({ ...params, offset, handle }))
    expect(response.status, response.text).toBe(200)
    responses.push(response)
    offset = response.headers.get('electric-offset') as string
  }
  expect(response.headers.has('electric-up-to-date')).toBe(true)
  return { position: { handle, offset, cursor: undefined }, messages: responses.flatMap((r) => r.body as WireMessage[]), responses }
}

/** Live long-polls from `position` until `done(changes so far)`; returns the changes and the new position. */
export async function liveUntil(
  handler: Handler,
  params: Record<string, string | undefined>,
  position: StreamPosition,
  done: (changes: WireMessage[]) => boolean,
): Promise<{ position: StreamPosition; changes: WireMessage[]; responses: ShapeResponse[] }> {
  const changes: WireMessage[] = []
  const responses: ShapeResponse[] = []
  let current = position
  for (let round = 0; round < 40 && !done(changes); round++) {
    const response = await call(
      handler,
      shapeUrl({ ...params, offset: current.offset, handle: current.handle, live: 'true', cursor: current.cursor }),
    )
    expect(response.status, response.text).toBe(200)
    responses.push(response)
    changes.push(...(response.body as WireMessage[]).filter((message) => message.key !== undefined))
    current = {
      handle: current.handle,
      offset: response.headers.get('electric-offset') as string,
      cursor: response.headers.get('electric-cursor') ?? undefined,
    }
  }
  expect(done(changes), JSON.stringify(changes)).toBe(true)
  return { position: current, changes, responses }
}

/** Reads an SSE body incrementally. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #decoder = new TextDecoder()
  text = ''
  done = false

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader()
  }

  /** Reads until `predicate(text)` holds or the stream ends; returns whether it holds. */
  async until(predicate: (text: string) => boolean): Promise<boolean> {
    while (!predicate(this.text) && !this.done) {
      const { done, value } = await this.#reader.read()
      if (done) this.done = true
      else this.text += this.#decoder.decode(value, { stream: true })
    }
    return predicate(this.text)
  }

  /** Reads to the end of the stream. */
  async toEnd(): Promise<string> {
    await this.until(() => false)
    return this.text
  }

  /** The `data:` payloads received so far, parsed. */
  events(): WireMessage[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice('data: '.length)) as WireMessage)
  }

  cancel(): Promise<void> {
    return this.#reader.cancel()
  }
}

/** A real clock that reports each timer of `ms` it arms, so a test knows a request is being held. */
export function observedClock(ms: number): { clock: Clock; armed: () => Promise<void> } {
  let notify: (() => void) | undefined
  let pending = 0
  const clock: Clock = {
    now: () => realClock.now(),
    setTimeout(callback, delay) {
      if (delay === ms) {
        pending += 1
        notify?.()
      }
      return realClock.setTimeout(callback, delay)
    },
    clearTimeout: (handle) => realClock.clearTimeout(handle),
  }
  const armed = (): Promise<void> => {
    if (pending > 0) {
      pending -= 1
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      notify = () => {
        notify = undefined
        pending -= 1
        resolve()
      }
    })
  }
  return { clock, armed }
}

export function changesOf(messages: readonly WireMessage[]): WireMessage[] {
  return messages.filter((message) => message.key !== undefined)
}
