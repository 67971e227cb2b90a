/**
 * The SSE parser and transport under jsdom, where `window`, `document` and jsdom's own `AbortController` exist:
 * the same code must behave exactly as in plain Node (test/core), with no DOM access of its own.
 */
import { describe, expect, it } from 'vitest'
import { MalformedResponseError, MissingHeadersError, ShapeRequestError } from '../../src/core/errors'
import { readSseData } from '../../src/core/sseParser'
import { runSseRequest, type SseBatch, type SseRequest } from '../../src/core/sseTransport'
import {
  change,
  chunkedStream,
  collect,
  controlledStream,
  event,
  manualClock,
  scriptedFetch,
  splitBytes,
  sseResponse,
  trackListeners,
  upToDate,
} from '../core/sseHelpers'

const URL_ = 'http://shapes.test/v1/shape?table=items&handle=h1&offset=100_0&live=true&live_sse=true&experimental_live_sse=true'
const tx1 = [change('200', 0, 'a'), change('200', 2, 'b'), upToDate('200')]
const tx2 = [change('300', 4, 'c'), upToDate('300')]

function setup(fetch: SseRequest['fetch']) {
  const batches: SseBatch[] = []
  const controller = new AbortController()
  const listeners = trackListeners(controller.signal)
  const run = () =>
    runSseRequest({ fetch, url: URL_, offset: '100_0', signal: controller.signal, clock: manualClock(), onBatch: (b) => batches.push(b) })
  return { batches, controller, listeners, run }
}

describe('SSE under jsdom', () => {
  it('runs in a DOM environment', () => {
    expect(typeof window).toBe('object')
    expect(typeof document).toBe('object')
  })

  it('parses CRLF events split mid-line, with keep-alives', async () => {
    const text = `: keep-alive\r\n\r\ndata: {"a":\r\ndata: 1}\r\n\r\n`
    expect(await collect(readSseData(chunkedStream(splitBytes(text, 3))))).toEqual(['{"a":\n1}'])
  })

  it('delivers two batches with their resume offsets and ends when the server closes', async () => {
    const text = [...tx1, ...tx2].map(event).join('').replaceAll('\n', '\r\n')
    const { batches, run } = setup(scriptedFetch(sseResponse(chunkedStream(splitBytes(text, 11)))))
    const end = await run()
    expect(batches.map((b) => b.messages)).toEqual([tx1, tx2])
    expect(batches.map((b) => b.offset)).toEqual(['200_2', '300_4'])
    expect(end).toMatchObject({ reason: 'closed', lastOffset: '300_4' })
  })

  it('abort mid-stream cancels the body, drops held-back changes and removes every abort listener', async () => {
    const body = controlledStream()
    const { batches, controller, listeners, run } = setup(scriptedFetch(sseResponse(body.stream)))
    const ended = run()
    body.push(tx1.map(event).join('') + event(tx2[0]))
    await body.drained()
    expect(listeners.active()).toBeGreaterThan(0)
    controller.abort()
    expect(await ended).toMatchObject({ reason: 'aborted', lastOffset: '200_2' })
    expect(body.isCancelled()).toBe(true)
    expect(batches.map((b) => b.messages)).toEqual([tx1])
    expect(listeners.active()).toBe(0)
  })

  it.each([
    ['array', '[{"headers":{"control":"must-refetch"}}]'],
    ['single-object', '{"headers":{"control":"must-refetch"}}'],
  ])('409 with the %s body → must-refetch', async (_name, text) => {
    const { run } = setup(scriptedFetch(new Response(text, { status: 409, headers: { 'electric-handle': 'h2' } })))
    expect(await run()).toMatchObject({ reason: 'must-refetch', handle: 'h2' })
  })

  it('400 → ShapeRequestError; missing electric-cursor → MissingHeadersError; bad data → MalformedResponseError', async () => {
    const bad = setup(scriptedFetch(new Response('{"message":"Invalid request","errors":{"offset":["has invalid format"]}}', { status: 400 })))
    await expect(bad.run()).rejects.toBeInstanceOf(ShapeRequestError)
    const missing = setup(scriptedFetch(sseResponse(chunkedStream([]), { 'electric-cursor': undefined })))
    await expect(missing.run()).rejects.toBeInstanceOf(MissingHeadersError)
    const malformed = setup(scriptedFetch(sseResponse(chunkedStream([event(tx2[0]), 'data: {oops\n\n', event(tx2[1])]))))
    await expect(malformed.run()).rejects.toBeInstanceOf(MalformedResponseError)
    expect(malformed.batches).toEqual([])
  })
})
