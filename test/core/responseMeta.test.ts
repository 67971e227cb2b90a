import { describe, expect, it } from 'vitest'
import { FetchError, MissingHeadersError, ShapeRequestError } from '../../src/core/errors'
import { readResponseMeta } from '../../src/core/responseMeta'

const url = 'http://x/v1/shape?table=items'
const schema = '{"id":{"type":"int4","pk_index":0}}'
const base = { 'electric-handle': 'h1', 'electric-offset': '0_0' }

const read = (response: Response, live = false) => readResponseMeta(response, url, { live })

describe('readResponseMeta 2xx', () => {
  it('reads a non-live 200', async () => {
    const meta = await read(new Response('[]', { status: 200, headers: { ...base, 'electric-schema': schema, 'electric-has-data': 'true' } }))
    expect(meta).toEqual({
      kind: 'ok',
      status: 200,
      handle: 'h1',
      offset: '0_0',
      cursor: undefined,
      schema,
      upToDate: false,
      hasData: true,
    })
  })

  it('reads up-to-date and has-data false on a live 200, without a schema', async () => {
    const response = new Response('[]', {
      status: 200,
      headers: { ...base, 'electric-cursor': '40', 'electric-up-to-date': '', 'electric-has-data': 'false' },
    })
    expect(await read(response, true)).toMatchObject({ kind: 'ok', cursor: '40', schema: undefined, upToDate: true, hasData: false })
  })

  it('leaves the body unread', async () => {
    const response = new Response('[1]', { status: 200, headers: { ...base, 'electric-schema': schema } })
    await read(response)
    expect(response.bodyUsed).toBe(false)
    expect(await response.json()).toEqual([1])
  })

  it('treats 204 as up to date and needs no schema', async () => {
    expect(await read(new Response(null, { status: 204, headers: base }))).toMatchObject({ kind: 'ok', status: 204, upToDate: true })
  })

  it.each([
    { live: false, headers: { 'electric-offset': '0_0', 'electric-schema': schema }, missing: ['electric-handle'] },
    { live: false, headers: { 'electric-handle': 'h', 'electric-schema': schema }, missing: ['electric-offset'] },
    { live: false, headers: base, missing: ['electric-schema'] },
    { live: true, headers: base, missing: ['electric-cursor'] },
    { live: true, headers: {}, missing: ['electric-handle', 'electric-offset', 'electric-cursor'] },
    { live: false, headers: {}, missing: ['electric-handle', 'electric-offset', 'electric-schema'] },
  ])('throws MissingHeadersError for $missing (live=$live)', async ({ live, headers, missing }) => {
    const error = await read(new Response('[]', { status: 200, headers }), live).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MissingHeadersError)
    expect((error as MissingHeadersError).missing).toEqual(missing)
    expect((error as MissingHeadersError).retryable).toBe(false)
  })
})

describe('readResponseMeta 409', () => {
  it('yields must-refetch with the next handle', async () => {
    const response = new Response('[{"headers":{"control":"must-refetch"}}]', { status: 409, headers: { 'electric-handle': 'h2' } })
    expect(await read(response)).toEqual({ kind: 'must-refetch', handle: 'h2' })
  })

  it('yields must-refetch without a handle', async () => {
    const response = new Response('[{"headers":{"control":"must-refetch"}}]', { status: 409 })
    expect(await read(response, true)).toEqual({ kind: 'must-refetch', handle: undefined })
  })

  it("carries the 409's retry-after, which paces a repeated refetch", async () => {
    const response = new Response('[]', { status: 409, headers: { 'electric-handle': 'h2', 'retry-after': '3' } })
    expect(await read(response)).toStrictEqual({ kind: 'must-refetch', handle: 'h2', retryAfter: '3' })
  })
})

describe('readResponseMeta errors', () => {
  it('400 becomes ShapeRequestError with the server body', async () => {
    const body = '{"message":"Invalid request","errors":{"offset":["has invalid format"]}}'
    const error = await read(new Response(body, { status: 400 })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ShapeRequestError)
    expect(error).toMatchObject({ status: 400, url, body, retryable: false, errors: { offset: ['has invalid format'] } })
  })

  it('500 becomes a retryable FetchError with the body and headers', async () => {
    const response = new Response('{"error":"Internal server error"}', { status: 500, headers: { 'retry-after': '3' } })
    const error = await read(response).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchError)
    expect(error).not.toBeInstanceOf(ShapeRequestError)
    expect(error).toMatchObject({ status: 500, retryable: true, json: { error: 'Internal server error' } })
    expect((error as FetchError).headers['retry-after']).toBe('3')
  })

  it('401 becomes a non-retryable FetchError', async () => {
    const error = await read(new Response('{"message":"Unauthorized"}', { status: 401 }), true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchError)
    expect(error).toMatchObject({ status: 401, retryable: false })
  })
})
