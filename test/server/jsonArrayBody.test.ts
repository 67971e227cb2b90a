import { describe, expect, it } from 'vitest'
import { jsonArrayBody } from '../../src/server/jsonArrayBody'

async function readAll(body: string | ReadableStream<Uint8Array>): Promise<{ text: string; pieces: number[] }> {
  if (typeof body === 'string') return { text: body, pieces: [body.length] }
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const pieces: number[] = []
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    pieces.push(value.byteLength)
    text += decoder.decode(value, { stream: true })
  }
  return { text: text + decoder.decode(), pieces }
}

const message = (i: number, size = 100): string => JSON.stringify({ key: `"public"."t"/"${i}"`, value: { id: String(i), t: 'é'.repeat(size) }, headers: { operation: 'insert' } })

describe('jsonArrayBody', () => {
  it('answers a short body as one string', () => {
    expect(jsonArrayBody([])).toBe('[]')
    expect(jsonArrayBody([message(1), message(2)])).toBe(`[${message(1)},${message(2)}]`)
  })

  it('streams a long body in bounded pieces whose bytes are exactly the JSON array', async () => {
    const messages = Array.from({ length: 5000 }, (_, i) => message(i))
    const body = jsonArrayBody(messages)
    expect(body).toBeInstanceOf(ReadableStream)
    const { text, pieces } = await readAll(body)
    expect(text).toBe(`[${messages.join(',')}]`)
    expect(JSON.parse(text)).toHaveLength(5000)
    expect(pieces.length).toBeGreaterThan(5)
    // One piece is at most 64 Ki characters of text plus the one message that crossed the line, UTF-8 encoded.
    for (const bytes of pieces) expect(bytes).toBeLessThan(3 * (64 * 1024 + 400))
  })

  it('keeps a message longer than a piece whole, first, middle and last', async () => {
    const long = message(0, 100_000)
    for (const messages of [[long, message(1)], [message(1), long, message(2)], [message(1), long]]) {
      const { text } = await readAll(jsonArrayBody(messages))
      expect(text).toBe(`[${messages.join(',')}]`)
    }
  })

  it('encodes nothing before the reader asks, and one piece per read', async () => {
    const messages = Array.from({ length: 5000 }, (_, i) => message(i))
    let encoded = 0
    const original = TextEncoder.prototype.encode
    TextEncoder.prototype.encode = function (this: TextEncoder, input?: string) {
      encoded++
      return original.call(this, input)
    }
    try {
      const body = jsonArrayBody(messages) as ReadableStream<Uint8Array>
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(encoded).toBe(0)
      const reader = body.getReader()
      await reader.read()
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(encoded).toBe(1)
      await reader.cancel()
    } finally {
      TextEncoder.prototype.encode = original
    }
  })
})
