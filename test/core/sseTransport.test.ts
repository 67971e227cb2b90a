import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  FetchError,
  MalformedResponseError,
  MissingHeadersError,
  NetworkError,
  ShapeRequestError,
} from '../../src/core/errors'
import { compareOffsets } from '../../src/core/offset'
import type { ChangeMessage, Message, WireRow } from '../../src/core/protocol'
import type { ResponseMeta } from '../../src/core/responseMeta'
import { runSseRequest, type SseBatch, type SseRequest } from '../../src/core/sseTransport'
import {
  change,
  chunkedStream,
  controlledStream,
  deferred,
  event,
  manualClock,
  scriptedFetch,
  splitBytes,
  sseResponse,
  upToDate,
} from './sseHelpers'

const URL_ = 'http://shapes.test/v1/shape?table=items&handle=h1&offset=100_0&live=true&live_sse=true&experimental_live_sse=true&cursor=3980'

function setup(fetch: SseRequest['fetch'], extra: Partial<SseRequest> = {}) {
  const batches: SseBatch[] = []
  const metas: ResponseMeta[] = []
  const controller = new AbortController()
  const clock = manualClock()
  const run = () =>
    runSseRequest({
      fetch,
      url: URL_,
      offset: '100_0',
      signal: controller.signal,
      clock,
      onMeta: (meta) => metas.push(meta),
      onBatch: (batch) => batches.push(batch),
      ...extra,
    })
  return { batches, metas, controller, clock, run }
}

const tx1 = [change('200', 0, 'a'), change('200', 2, 'b'), upToDate('200')]
const tx2 = [change('300', 4, 'c'), upToDate('300')]
const twoBatches = [...tx1, ...tx2].map(event).join('')

afterEach(() => {
  vi.useRealTimers()
})

describe('runSseRequest request', () => {
  it('sends Accept: text/event-stream with the caller headers, to the URL as given', async () => {
    const fetch = scriptedFetch(sseResponse(chunkedStream([])))
    const { run } = setup(fetch, { headers: { Authorization: 'Bearer t', Accept: 'application/json' } })
    await run()
    expect(fetch.calls).toHaveLength(1)
    const call = fetch.calls[0]!
    expect(call.url).toBe(URL_)
    const headers = new Headers(call.init.headers)
    expect(headers.get('accept')).toBe('text/event-stream')
    expect(headers.get('authorization')).toBe('Bearer t')
    expect(call.init.signal).toBeInstanceOf(AbortSignal)
  })
})

describe('runSseRequest batching', () => {
  it('delivers each batch once, closed by its up-to-date, after the meta, and times the whole request', async () => {
    const order: string[] = []
    const clock = manualClock()
    const fetch = scriptedFetch(() => {
      clock.advance(250)
      return sseResponse(chunkedStream([twoBatches]))
    })
    const { batches, run } = setup(fetch, {
      clock,
      onMeta: (meta) => order.push(`meta ${meta.handle} ${meta.cursor}`),
      onBatch: (batch) => {
        clock.advance(50)
        order.push(`batch ${batch.messages.length}`)
        batches.push(batch)
      },
    })
    const end = await run()
    expect(order).toEqual(['meta h1 4000', 'batch 3', 'batch 2'])
    expect(batches.map((b) => b.messages)).toEqual([tx1, tx2])
    expect(batches.map((b) => b.offset)).toEqual(['200_2', '300_4'])
    expect(end).toEqual({ reason: 'closed', durationMs: 350, lastOffset: '300_4' })
  })

  it.each([
    ['one chunk', (text: string) => [text]],
    ['7-byte chunks (events split mid-line)', (text: string) => splitBytes(text, 7)],
    ['1-byte chunks', (text: string) => splitBytes(text, 1)],
    ['CRLF line ends with keep-alives', (text: string) => splitBytes(`: keep-alive\r\n\r\n${text.replaceAll('\n', '\r\n')}`, 5)],
  ])('reads the same batches from %s', async (_name, chunk) => {
    const { batches, run } = setup(scriptedFetch(sseResponse(chunkedStream(chunk(twoBatches)))))
    await run()
    expect(batches.map((b) => b.messages)).toEqual([tx1, tx2])
  })

  it('holds changes back until their up-to-date arrives', async () => {
    const body = controlledStream()
    const { batches, run } = setup(scriptedFetch(sseResponse(body.stream)))
    const ended = run()
    body.push(event(tx1[0]))
    body.push(event(tx1[1]) + ': keep-alive\n\n')
    await body.drained()
    expect(batches).toEqual([])
    body.push(event(tx1[2]))
    await body.drained()
    expect(batches.map((b) => b.messages)).toEqual([tx1])
    body.close()
    expect((await ended).reason).toBe('closed')
  })

  it('drops changes the server closed the stream before confirming, and does not move the offset past them', async () => {
    const body = chunkedStream([event(tx1[0]) + event(tx1[1]) + event(tx1[2]) + event(tx2[0])])
    const { batches, run } = setup(scriptedFetch(sseResponse(body)))
    const end = await run()
    expect(batches.map((b) => b.messages)).toEqual([tx1])
    expect(end).toMatchObject({ reason: 'closed', lastOffset: '200_2' })
  })

  it('treats a body-less 200 as a stream the server closed', async () => {
    const { batches, run } = setup(scriptedFetch(sseResponse(null)))
    expect(await run()).toMatchObject({ reason: 'closed', lastOffset: '100_0' })
    expect(batches).toEqual([])
  })
})

describe('runSseRequest resume offset', () => {
  it('resumes after the last change of a multi-row transaction, op positions with gaps included', async () => {
    const tx = [change('500', 0, 'a'), change('500', 6, 'b'), change('500', 10, 'c', { last: true }), upToDate('500')]
    const { batches, run } = setup(scriptedFetch(sseResponse(chunkedStream([tx.map(event).join('')]))))
    const end = await run()
    expect(batches[0]?.offset).toBe('500_10')
    expect(end.lastOffset).toBe('500_10')
  })

  it('keeps the previous offset for a batch with no change', async () => {
    const body = [tx1.map(event).join(''), event(upToDate('200'))]
    const { batches, run } = setup(scriptedFetch(sseResponse(chunkedStream(body))))
    const end = await run()
    expect(batches.map((b) => b.offset)).toEqual(['200_2', '200_2'])
    expect(end.lastOffset).toBe('200_2')
  })

  it('keeps the request offset when only change-less batches arrive', async () => {
    const { batches, run } = setup(scriptedFetch(sseResponse(chunkedStream([event(upToDate('100'))]))))
    expect((await run()).lastOffset).toBe('100_0')
    expect(batches[0]?.offset).toBe('100_0')
  })

  /**
   * A scripted server over a fixed log: a request at offset O gets every change after O, an up-to-date after each
   * transaction, then the stream ends (or breaks after `breakAfter` events).
   */
  function logServer(log: readonly ChangeMessage<WireRow>[]) {
    const positionOf = (m: ChangeMessage<WireRow>) => `${m.headers.lsn}_${m.headers.op_position}`
    const after = (offset: string) => log.filter((m) => compareOffsets(positionOf(m), offset) > 0)
    const respond = (breakAfter = Infinity) => (url: string) => {
      const offset = new URL(url).searchParams.get('offset') ?? ''
      const messages: Message<WireRow>[] = []
      const entries = after(offset)
      entries.forEach((entry, i) => {
        messages.push(entry)
        if (entries[i + 1]?.headers.lsn !== entry.headers.lsn) messages.push(upToDate(entry.headers.lsn as string))
      })
      return sseResponse(chunkedStream(messages.slice(0, breakAfter).map(event)), { 'electric-offset': offset })
    }
    return { after, respond, positionOf }
  }

  it('reconnecting from the reported offset neither loses nor re-applies a change', async () => {
    const log = [
      change('1000', 0, 'a'),
      change('1000', 2, 'b'),
      change('1000', 4, 'c', { last: true }),
      change('2000', 0, 'd'),
      change('2000', 8, 'e', { last: true }),
      change('3000', 2, 'f', { last: true }),
    ]
    const server = logServer(log)
    // The first stream breaks inside the second transaction: after d, before e and the up-to-date.
    const fetch = scriptedFetch(server.respond(5), server.respond())
    const applied: string[] = []
    const apply = (batch: SseBatch) => {
      for (const m of batch.messages) if ('key' in m) applied.push(server.positionOf(m))
    }
    const url = (offset: string) => `http://shapes.test/v1/shape?table=items&handle=h1&live=true&live_sse=true&offset=${offset}`
    const common = { fetch, signal: new AbortController().signal, clock: manualClock(), onBatch: apply }

    const first = await runSseRequest({ ...common, url: url('0_inf'), offset: '0_inf' })
    expect(first).toMatchObject({ reason: 'closed', lastOffset: '1000_4' })
    expect(applied).toEqual(['1000_0', '1000_2', '1000_4'])

    const second = await runSseRequest({ ...common, url: url(first.lastOffset), offset: first.lastOffset })
    expect(second).toMatchObject({ reason: 'closed', lastOffset: '3000_2' })
    expect(applied).toEqual(log.map(server.positionOf))

    // The reference client's `${global_last_seen_lsn}_0` would have made the same server re-send b and c.
    expect(server.after('1000_0').slice(0, 2).map(server.positionOf)).toEqual(['1000_2', '1000_4'])
  })
})

describe('runSseRequest abort', () => {
  it('closes the body at once, drops held-back changes and leaves nothing behind', async () => {
    vi.useFakeTimers()
    const body = controlledStream()
    const { batches, controller, run } = setup(scriptedFetch(sseResponse(body.stream)))
    const ended = run()
    body.push(tx1.map(event).join('') + event(tx2[0]))
    await body.drained()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort()
    const end = await ended
    expect(end).toMatchObject({ reason: 'aborted', lastOffset: '200_2' })
    expect(body.isCancelled()).toBe(true)
    expect(batches.map((b) => b.messages)).toEqual([tx1])
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('delivers nothing more once aborted, even a batch already in the same chunk', async () => {
    const { batches, controller, run } = setup(scriptedFetch(sseResponse(chunkedStream([twoBatches]))), {
      onBatch: (batch) => {
        batches.push(batch)
        controller.abort()
      },
    })
    expect(await run()).toMatchObject({ reason: 'aborted', lastOffset: '200_2' })
    expect(batches).toHaveLength(1)
  })

  it('returns at once when aborted while waiting for a fetch that ignores the signal, and cancels its late body', async () => {
    const response = deferred<Response>()
    const { controller, metas, run } = setup(scriptedFetch(() => response.promise))
    const ended = run()
    controller.abort()
    expect(await ended).toMatchObject({ reason: 'aborted', lastOffset: '100_0' })
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    const late = controlledStream()
    response.resolve(sseResponse(late.stream))
    await late.cancelled
    expect(metas).toEqual([])
  })

  it('does not fetch when the signal is already aborted', async () => {
    const fetch = scriptedFetch()
    const { controller, run } = setup(fetch)
    controller.abort()
    expect((await run()).reason).toBe('aborted')
    expect(fetch.calls).toHaveLength(0)
  })

  it('reports aborted, not a network error, when fetch rejects because of the abort', async () => {
    const { controller, run } = setup((_url, init) => {
      controller.abort()
      return Promise.reject(init.signal?.reason)
    })
    expect((await run()).reason).toBe('aborted')
  })
})

describe('runSseRequest responses that are not a stream', () => {
  it.each([
    ['the current array body', '[{"headers":{"control":"must-refetch"}}]'],
    ['the older single-object body', '{"headers":{"control":"must-refetch"}}'],
  ])('409 with %s → must-refetch with the next handle, body closed', async (_name, text) => {
    const body = controlledStream()
    body.push(text)
    const response = new Response(body.stream, { status: 409, headers: { 'electric-handle': 'h2', 'content-type': 'application/json' } })
    const { batches, metas, run } = setup(scriptedFetch(response))
    expect(await run()).toMatchObject({ reason: 'must-refetch', handle: 'h2', lastOffset: '100_0' })
    expect(body.isCancelled()).toBe(true)
    expect(batches).toEqual([])
    expect(metas).toEqual([])
  })

  it('409 without a handle → must-refetch with no handle', async () => {
    const { run } = setup(scriptedFetch(new Response('[]', { status: 409 })))
    expect(await run()).toMatchObject({ reason: 'must-refetch', handle: undefined })
  })

  it('400 → ShapeRequestError with the field messages', async () => {
    const body = '{"message":"Invalid request","errors":{"live_sse":["can\'t be true unless live is also true"]}}'
    const { run } = setup(scriptedFetch(new Response(body, { status: 400 })))
    const error = await run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ShapeRequestError)
    expect((error as ShapeRequestError).errors).toEqual({ live_sse: ["can't be true unless live is also true"] })
    expect((error as ShapeRequestError).retryable).toBe(false)
  })

  it('503 → retryable FetchError', async () => {
    const { run } = setup(scriptedFetch(new Response('{"message":"busy"}', { status: 503, headers: { 'retry-after': '5' } })))
    const error = await run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchError)
    expect((error as FetchError).status).toBe(503)
    expect((error as FetchError).retryable).toBe(true)
  })

  it('200 without electric-cursor → MissingHeadersError, body closed, no meta', async () => {
    const body = controlledStream()
    const { metas, run } = setup(scriptedFetch(sseResponse(body.stream, { 'electric-cursor': undefined })))
    const error = await run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MissingHeadersError)
    expect((error as MissingHeadersError).missing).toEqual(['electric-cursor'])
    expect(body.isCancelled()).toBe(true)
    expect(metas).toEqual([])
  })

  it('fetch rejecting → NetworkError', async () => {
    const { run } = setup(() => Promise.reject(new TypeError('fetch failed')))
    const error = await run().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).retryable).toBe(true)
  })
})

describe('runSseRequest bad streams', () => {
  it.each([
    ['not JSON', 'data: {"headers": \n\n'],
    ['a number', 'data: 42\n\n'],
    ['a string', 'data: "up-to-date"\n\n'],
    ['null', 'data: null\n\n'],
    ['an array of changes', `data: [${JSON.stringify(change('300', 0, 'z'))}]\n\n`],
    ['an object without headers', 'data: {"key":"k","value":{}}\n\n'],
    ['a change without a value', 'data: {"key":"k","headers":{"operation":"insert"}}\n\n'],
  ])('data that is %s → MalformedResponseError; held-back changes are dropped, the body is closed', async (_name, bad) => {
    const body = controlledStream()
    const { batches, run } = setup(scriptedFetch(sseResponse(body.stream)))
    const ended = run().catch((e: unknown) => e)
    body.push(tx1.map(event).join('') + event(tx2[0]) + bad + event(tx2[1]))
    const error = await ended
    expect(error).toBeInstanceOf(MalformedResponseError)
    expect((error as MalformedResponseError).retryable).toBe(true)
    expect(batches.map((b) => b.messages)).toEqual([tx1])
    expect(body.isCancelled()).toBe(true)
  })

  it('a must-refetch inside the stream (experimental servers) ends the request like a 409', async () => {
    const stream = chunkedStream([tx1.map(event).join(''), event(tx2[0]), 'data: [{"headers":{"control":"must-refetch"}}]\n\n', event(tx2[1])])
    const { batches, run } = setup(scriptedFetch(sseResponse(stream)))
    expect(await run()).toMatchObject({ reason: 'must-refetch', handle: undefined, lastOffset: '200_2' })
    expect(batches.map((b) => b.messages)).toEqual([tx1])
  })

  it('a body that fails mid-stream → NetworkError, held-back changes dropped', async () => {
    const body = controlledStream()
    const { batches, run } = setup(scriptedFetch(sseResponse(body.stream)))
    const ended = run().catch((e: unknown) => e)
    body.push(event(tx1[0]))
    await body.drained()
    body.error(new TypeError('terminated'))
    expect(await ended).toBeInstanceOf(NetworkError)
    expect(batches).toEqual([])
  })

  it('an error thrown by onBatch propagates and closes the body', async () => {
    const body = controlledStream()
    const failure = new Error('store rejected the batch')
    const { run } = setup(scriptedFetch(sseResponse(body.stream)), {
      onBatch: () => {
        throw failure
      },
    })
    const ended = run().catch((e: unknown) => e)
    body.push(tx1.map(event).join(''))
    expect(await ended).toBe(failure)
    expect(body.isCancelled()).toBe(true)
  })
})

describe('runSseRequest heartbeat', () => {
  it('reports the headers and every chunk, keep-alive comments included, and nothing after an abort', async () => {
    const body = controlledStream()
    const fetch = scriptedFetch(sseResponse(body.stream))
    const activity: string[] = []
    const { run, controller, batches } = setup(fetch, { onActivity: () => activity.push(`chunk ${activity.length}`) })
    const ended = run()
    await body.drained()
    expect(activity).toHaveLength(1) // the headers
    body.push(': keep-alive\n\n')
    await body.drained()
    expect(activity).toHaveLength(2)
    body.push(event(upToDate('100')))
    await body.drained()
    expect(activity).toHaveLength(3)
    expect(batches).toHaveLength(1)
    controller.abort()
    await ended
    expect(activity).toHaveLength(3)
  })
})
