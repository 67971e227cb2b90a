import { describe, expect, it, vi } from 'vitest'
import {
  FetchError,
  MalformedResponseError,
  MissingHeadersError,
  NetworkError,
  ShapeRequestError,
} from '../../src/core/errors'
import type { LongPollRequest } from '../../src/core/longPollTransport'
import { longPollRequest } from '../../src/core/longPollTransport'
import {
  badRequestResponse,
  catchUpResponse,
  FakeShapeServer,
  HANDLE,
  liveResponse,
  mustRefetchResponse,
  rawResponse,
  serverErrorResponse,
  snapshotEnd,
  snapshotResponse,
  snapshotRow,
} from './support/fakeShapeServer'

const URL_ = 'http://localhost:3000/v1/shape?log=full&offset=-1&table=items'

async function request(response: Response, live = false): Promise<ReturnType<typeof longPollRequest>> {
  const server = new FakeShapeServer()
  const controller = new AbortController()
  const init: LongPollRequest = { url: URL_, headers: {}, live, signal: controller.signal, fetch: server.fetch }
  const result = longPollRequest(init)
  ;(await server.nextRequest()).respond(response)
  return result
}

const nonLiveHeaders = { 'electric-handle': HANDLE, 'electric-offset': '0_0', 'electric-schema': '{}' }

describe('longPollRequest', () => {
  it('returns meta and the message array of a snapshot chunk', async () => {
    const messages = [snapshotRow(1, 'a'), snapshotEnd()]
    const result = await request(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages }))
    expect(result).toMatchObject({ kind: 'ok', meta: { handle: HANDLE, offset: '0_0', upToDate: false }, messages })
  })

  it('marks up-to-date responses and live cursors', async () => {
    const result = await request(liveResponse({ requestOffset: '0_inf', offset: '0_inf', cursor: '40', lsn: '7', messages: [] }), true)
    expect(result).toMatchObject({ kind: 'ok', meta: { upToDate: true, cursor: '40', hasData: false } })
    const catchUp = await request(catchUpResponse({ requestOffset: '0_0', offset: '0_inf', lsn: '7', messages: [] }))
    expect(catchUp).toMatchObject({ kind: 'ok', meta: { upToDate: true } })
  })

  it('treats 204 as no messages, and a 200 whose body was cut to nothing as malformed (not as no messages)', async () => {
    expect(await request(new Response(null, { status: 204, headers: nonLiveHeaders }))).toMatchObject({ kind: 'ok', messages: [], meta: { upToDate: true } })
    await expect(request(rawResponse('', nonLiveHeaders))).rejects.toBeInstanceOf(MalformedResponseError)
    await expect(request(piecewiseResponse(cutBytes(' \n ', [1])))).rejects.toBeInstanceOf(MalformedResponseError)
  })

  it('reports 304 as not modified', async () => {
    const result = await request(new Response(null, { status: 304, headers: { 'electric-cursor': '60' } }), true)
    expect(result).toEqual({ kind: 'not-modified', cursor: '60', handle: undefined })
  })

  it('returns must-refetch for a 409 with or without a handle', async () => {
    expect(await request(mustRefetchResponse('next-handle'))).toEqual({ kind: 'must-refetch', handle: 'next-handle' })
    expect(await request(mustRefetchResponse(undefined))).toEqual({ kind: 'must-refetch', handle: undefined })
  })

  it.each([
    ['invalid JSON', '[{"headers":'],
    ['a non-array body', '{"headers":{"control":"up-to-date"}}'],
    ['a non-message element', '[1]'],
    ['a change without a key', '[{"value":{},"headers":{"operation":"insert"}}]'],
  ])('throws a retryable MalformedResponseError for %s', async (_name, body) => {
    const error = await request(rawResponse(body, nonLiveHeaders)).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MalformedResponseError)
    expect((error as MalformedResponseError).retryable).toBe(true)
  })

  /** A 200 whose body arrives in the given byte pieces. */
  function piecewiseResponse(pieces: readonly Uint8Array[]): Response {
    let next = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const piece = pieces[next++]
        if (piece === undefined) controller.close()
        else controller.enqueue(piece)
      },
    })
    return new Response(body, { status: 200, headers: { 'electric-server': 'test', ...nonLiveHeaders } })
  }

  /** Cuts `text`'s UTF-8 bytes at every position in `cuts`. */
  function cutBytes(text: string, cuts: readonly number[]): Uint8Array[] {
    const bytes = new TextEncoder().encode(text)
    const bounds = [0, ...cuts.filter((cut) => cut > 0 && cut < bytes.length), bytes.length]
    return bounds.slice(1).map((end, index) => bytes.subarray(bounds[index], end))
  }

  const trickyMessages = [
    { key: 'a', value: { title: 'braces } ] { [ and "quotes" and \\ backslash' }, headers: { operation: 'insert' } },
    { key: 'b', value: { title: 'ünïcödé ✓ 😀', tail: '\\' }, headers: { operation: 'update' } },
    { key: 'c', value: { nested: '{"x":[1,{"y":"}"}]}' }, headers: { operation: 'delete' } },
    { key: 'd', value: { title: 'looks like a boundary: },{ and }\\",{' }, headers: { operation: 'insert' } },
    { headers: { control: 'up-to-date' } },
  ]

  it.each([
    ['spaced', ` [ ${trickyMessages.map((message) => JSON.stringify(message)).join(' ,\n')} ] `],
    ['compact (whole groups parsed at once, boundary look-alikes inside strings)', JSON.stringify(trickyMessages)],
  ])('parses a %s body cut at every byte position exactly as the whole text (strings, escapes, UTF-8)', async (_name, text) => {
    const length = new TextEncoder().encode(text).length
    for (let cut = 1; cut < length; cut++) {
      const result = await request(piecewiseResponse(cutBytes(text, [cut, cut + 3])))
      expect(result).toEqual({ kind: 'ok', meta: expect.anything() as unknown, messages: trickyMessages })
    }
    const twoMessages = JSON.stringify([trickyMessages[0], trickyMessages[0]])
    for (let cut = 1; cut < twoMessages.length; cut++) {
      expect(await request(piecewiseResponse(cutBytes(twoMessages, [cut])))).toMatchObject({ messages: [trickyMessages[0], trickyMessages[0]] })
    }
    const oneByteAtATime = cutBytes(text, Array.from({ length }, (_, index) => index))
    expect(await request(piecewiseResponse(oneByteAtATime))).toMatchObject({ messages: trickyMessages })
    expect(await request(piecewiseResponse(cutBytes('[]', [1])))).toMatchObject({ kind: 'ok', messages: [] })
  })

  it.each([
    ['text after the array', '[{"headers":{"control":"up-to-date"}}] x'],
    ['a second array', '[][]'],
    ['a missing comma', '[{"headers":{"control":"up-to-date"}} {"headers":{"control":"up-to-date"}}]'],
    ['a trailing comma', '[{"headers":{"control":"up-to-date"}},]'],
    ['a leading comma', '[,{"headers":{"control":"up-to-date"}}]'],
    ['a truncated body', '[{"headers":{"control":"up-to-date"}}'],
    ['a truncated message', '[{"headers":{"control":"up-to'],
    ['a bad message', '[{"headers":{"control":"up-to-date"}},{"headers":{"control":1]}]'],
    ['a scalar element', '[{"headers":{"control":"up-to-date"}},"x"]'],
    ['an array element', '[[]]'],
  ])('rejects %s when the body arrives in pieces, and cancels the body', async (_name, body) => {
    for (const cut of [1, Math.floor(body.length / 2), body.length - 1]) {
      const response = piecewiseResponse(cutBytes(body, [cut]))
      const error = await request(response).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MalformedResponseError)
      expect((error as MalformedResponseError).retryable).toBe(true)
      expect(response.bodyUsed).toBe(true)
    }
  })

  it('a malformed body costs a bounded number of parse attempts, however many boundaries follow', async () => {
    const message = JSON.stringify({ headers: { control: 'up-to-date' } })
    // An extra brace after the first message; every later piece holds a real-looking boundary.
    const pieces = [`[${message}}`, ...Array.from({ length: 200 }, () => `,${message},${message}`), ']']
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const error = await request(piecewiseResponse(pieces.map((piece) => new TextEncoder().encode(piece)))).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MalformedResponseError)
      expect(parse.mock.calls.length).toBeLessThan(12)
    } finally {
      parse.mockRestore()
    }
  })

  it('a boundary look-alike inside a string only delays parsing to the next piece', async () => {
    const tricky = { key: 'a', value: { title: 'x},{y' }, headers: { operation: 'insert' } }
    const plain = { key: 'b', value: { title: 'z' }, headers: { operation: 'insert' } }
    const full = JSON.stringify([tricky, plain, plain])
    const firstCut = full.indexOf('},{') + 3 // just after the look-alike inside the title
    const secondCut = full.lastIndexOf('},{') + 3 // just after the real boundary before the last message
    const pieces = [full.slice(0, firstCut), full.slice(firstCut, secondCut), full.slice(secondCut)]
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const result = await request(piecewiseResponse(pieces.map((piece) => new TextEncoder().encode(piece))))
      expect(result).toMatchObject({ kind: 'ok', messages: [tricky, plain, plain] })
      // Three parses of body text: the failed guess, the next piece's guess (two messages), the last message at the
      // end. A fallback to the whole body would parse it all at the end instead.
      const bodyParses = parse.mock.calls.map(([text]) => text as string).filter((text) => text.includes('"key"'))
      expect(bodyParses).toHaveLength(3)
      expect(bodyParses[2]).toBe('[' + full.slice(secondCut - 1))
    } finally {
      parse.mockRestore()
    }
  })

  /** A non-live request with a `stage` option, answered with `response`. */
  async function stagedRequest(stage: NonNullable<LongPollRequest['stage']>, response: Response): Promise<ReturnType<typeof longPollRequest>> {
    const server = new FakeShapeServer()
    const result = longPollRequest({ url: URL_, headers: {}, live: false, signal: new AbortController().signal, fetch: server.fetch, stage })
    ;(await server.nextRequest()).respond(response)
    return result
  }

  it('offers leading groups to stage while reading; a declined group ends the offers, and the result holds the rest', async () => {
    const messages = Array.from({ length: 6 }, (_, index) => ({ key: `k${index}`, value: { id: index }, headers: { operation: 'insert' } }))
    const text = JSON.stringify(messages)
    // Cut just after messages 1 and 3 (each cut leaves a `},{` guess in its piece), so groups arrive as [0], [1, 2], …
    const pieces = [text.indexOf('"k1"') + 2, text.indexOf('"k3"') + 2, text.indexOf('"k5"') + 2]
    for (const declineAt of [Infinity, 1]) {
      const offered: string[][] = []
      const stage: NonNullable<LongPollRequest['stage']> = (meta) => {
        expect(meta.handle).toBe(HANDLE)
        return (group) => {
          offered.push(group.map((message) => (message as { key: string }).key))
          return offered.length - 1 < declineAt
        }
      }
      const outcome = await stagedRequest(stage, piecewiseResponse(cutBytes(text, pieces)))
      const returned = outcome.kind === 'ok' ? outcome.messages.map((message) => (message as { key: string }).key) : []
      const taken = offered.slice(0, Math.min(declineAt, offered.length)).flat()
      expect([...taken, ...returned]).toEqual(messages.map((message) => message.key))
      if (declineAt === 1) expect(offered).toHaveLength(2)
      else expect(taken.length).toBeGreaterThan(0)
    }
  })

  it('names a bad message by its index in the whole body, also after groups were staged', async () => {
    const good = (index: number) => JSON.stringify({ key: `k${index}`, value: {}, headers: { operation: 'insert' } })
    const text = `[${good(0)},${good(1)},${good(2)},${good(3)},{"x":1},${good(5)}]`
    const staged: number[] = []
    const response = piecewiseResponse(cutBytes(text, [text.indexOf('"k2"') + 2]))
    const error = await stagedRequest(() => (group) => staged.push(group.length) > 0, response).catch((caught: unknown) => caught)
    expect(staged).toEqual([2])
    expect(error).toBeInstanceOf(MalformedResponseError)
    expect((error as Error).message).toContain('message 4 is not a protocol message')
  })

  it('a body that fails while being read is a NetworkError', async () => {
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new TypeError('terminated'))
        else controller.enqueue(new TextEncoder().encode('[{"headers":{"control":"up-'))
        sent = true
      },
    })
    const error = await request(new Response(body, { status: 200, headers: { 'electric-server': 'test', ...nonLiveHeaders } })).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(NetworkError)
  })

  it('throws typed errors for 400, other 4xx and 5xx', async () => {
    const bad = await request(badRequestResponse({ where: ['bad'] })).catch((caught: unknown) => caught)
    expect(bad).toBeInstanceOf(ShapeRequestError)
    expect((bad as ShapeRequestError).retryable).toBe(false)
    const unauthorized = await request(new Response('{"message":"Unauthorized - Invalid API secret"}', { status: 401 })).catch((caught: unknown) => caught)
    expect(unauthorized).toBeInstanceOf(FetchError)
    expect((unauthorized as FetchError).retryable).toBe(false)
    const unavailable = await request(serverErrorResponse(503, '10')).catch((caught: unknown) => caught)
    expect(unavailable).toMatchObject({ status: 503, retryable: true })
  })

  it('throws MissingHeadersError when a required header is absent', async () => {
    const error = await request(rawResponse('[]', { 'electric-handle': HANDLE, 'electric-schema': '{}' })).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(MissingHeadersError)
    expect((error as MissingHeadersError).missing).toEqual(['electric-offset'])
  })

  it('turns a fetch rejection into NetworkError, but rethrows our own abort untouched', async () => {
    const server = new FakeShapeServer()
    const controller = new AbortController()
    const failing = longPollRequest({ url: URL_, headers: {}, live: false, signal: controller.signal, fetch: server.fetch })
    ;(await server.nextRequest()).fail(new TypeError('fetch failed'))
    await expect(failing).rejects.toBeInstanceOf(NetworkError)

    const aborted = longPollRequest({ url: URL_, headers: {}, live: false, signal: controller.signal, fetch: server.fetch })
    await server.nextRequest()
    controller.abort()
    const error = await aborted.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DOMException)
    expect((error as DOMException).name).toBe('AbortError')
    expect(server.inFlight).toBe(0)
  })

  it('sends the given headers with the abort signal', async () => {
    const server = new FakeShapeServer()
    const controller = new AbortController()
    const pending = longPollRequest({ url: URL_, headers: { Authorization: 'Bearer t' }, live: false, signal: controller.signal, fetch: server.fetch })
    const seen = await server.nextRequest()
    expect(seen.headers).toEqual({ authorization: 'Bearer t' })
    expect(seen.signal).toBe(controller.signal)
    seen.respond(snapshotResponse({ requestOffset: '-1', offset: '0_0', messages: [snapshotEnd()] }))
    await pending
  })
})
