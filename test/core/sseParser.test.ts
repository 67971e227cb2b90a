import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { readSseData } from '../../src/core/sseParser'
import { bytes, chunkedStream, collect, controlledStream, splitBytes } from './sseHelpers'

const read = (chunks: readonly (string | Uint8Array)[]) => collect(readSseData(chunkedStream(chunks)))

describe('readSseData framing', () => {
  it('yields the data of each event terminated by a blank line', async () => {
    expect(await read(['data: {"a":1}\n\ndata: {"b":2}\n\n'])).toEqual(['{"a":1}', '{"b":2}'])
  })

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('accepts %s line ends, however the bytes are chunked', async (_name, eol) => {
    const text = `: keep-alive${eol}${eol}data: first${eol}${eol}data: sec${eol}data: ond${eol}${eol}`
    const expected = ['first', 'sec\nond']
    expect(await read([text])).toEqual(expected)
    expect(await read(splitBytes(text, 1))).toEqual(expected)
    const all = bytes(text)
    for (let cut = 1; cut < all.length; cut++) {
      expect(await read([all.subarray(0, cut), all.subarray(cut)]), `cut at byte ${cut}`).toEqual(expected)
    }
  })

  it('does not take a CR at the end of one chunk and an LF at the start of the next for two lines', async () => {
    // If the CRLF were read as two line ends, the empty line between would end the event after "a".
    expect(await read(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual(['a\nb'])
  })

  it('ignores comment lines, including keep-alives between the lines of one event', async () => {
    expect(await read([': keep-alive\n\n', 'data: x\n: note\ndata: y\n\n', ':\n\n'])).toEqual(['x\ny'])
  })

  it('tolerates event, id and retry fields and unknown fields', async () => {
    expect(await read(['event: change\nid: 7\nretry: 10\nfoo: bar\ndata: payload\n\n'])).toEqual(['payload'])
  })

  it('strips exactly one space after the colon', async () => {
    expect(await read(['data:tight\n\ndata:  padded\n\n'])).toEqual(['tight', ' padded'])
  })

  it('keeps a UTF-8 character whole when its bytes are split across chunks', async () => {
    const text = 'data: {"t":"é☃😀"}\n\n'
    expect(await read(splitBytes(text, 1))).toEqual(['{"t":"é☃😀"}'])
  })

  it('discards an event the stream ended before terminating', async () => {
    expect(await read(['data: done\n\ndata: half'])).toEqual(['done'])
    expect(await read(['data: done\n\ndata: half\n'])).toEqual(['done'])
  })

  it('yields nothing for blank lines with no data', async () => {
    expect(await read(['\n\n\n', ': keep-alive\n\n'])).toEqual([])
  })
})

describe('readSseData lifetime', () => {
  it('cancels the body as soon as the signal aborts and removes its listener', async () => {
    const body = controlledStream()
    const controller = new AbortController()
    const iterator = readSseData(body.stream, { signal: controller.signal })
    body.push('data: one\n\n')
    expect(await iterator.next()).toEqual({ done: false, value: 'one' })
    const pending = iterator.next()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort(new Error('stop'))
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(body.isCancelled()).toBe(true)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('stops yielding the rest of a chunk once aborted', async () => {
    const controller = new AbortController()
    const seen: string[] = []
    for await (const data of readSseData(chunkedStream(['data: a\n\ndata: b\n\n']), { signal: controller.signal })) {
      seen.push(data)
      controller.abort()
    }
    expect(seen).toEqual(['a'])
  })

  it('reads nothing from a body when the signal is already aborted', async () => {
    const body = controlledStream()
    body.push('data: never\n\n')
    expect(await collect(readSseData(body.stream, { signal: AbortSignal.abort() }))).toEqual([])
    expect(body.isCancelled()).toBe(true)
  })

  it('cancels the body when the consumer leaves the loop early', async () => {
    const body = controlledStream()
    body.push('data: a\n\n')
    for await (const data of readSseData(body.stream)) {
      expect(data).toBe('a')
      break
    }
    expect(body.isCancelled()).toBe(true)
  })

  it('throws a read error that is not an abort', async () => {
    const body = controlledStream()
    const iterator = readSseData(body.stream)
    const pending = iterator.next()
    body.error(new TypeError('socket reset'))
    await expect(pending).rejects.toThrow('socket reset')
  })
})

describe('readSseData onChunk', () => {
  it('is called for every chunk, comment-only ones included', async () => {
    let chunks = 0
    const data = await collect(readSseData(chunkedStream([': keep-alive\n\n', ': keep-alive\n\n', 'data: x\n\n']), { onChunk: () => chunks++ }))
    expect(data).toEqual(['x'])
    expect(chunks).toBe(3)
  })
})
