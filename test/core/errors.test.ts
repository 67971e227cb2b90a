import { describe, expect, it } from 'vitest'
import {
  FetchError,
  InvalidOptionsError,
  MalformedResponseError,
  MalformedSchemaError,
  MissingHeadersError,
  NetworkError,
  NullValueError,
  ReservedParamError,
  RetriesExhaustedError,
  ShapeError,
  ShapeRequestError,
  ValueParseError,
} from '../../src/core/errors'

const url = 'http://x/v1/shape?table=items'

describe('typed errors: code, retryable, name', () => {
  const cause = new TypeError('fetch failed')
  it.each([
    { error: new FetchError({ status: 500, url, body: '', headers: {} }), code: 'http', retryable: true },
    { error: new FetchError({ status: 503, url, body: '', headers: {} }), code: 'http', retryable: true },
    { error: new FetchError({ status: 429, url, body: '', headers: {} }), code: 'http', retryable: true },
    { error: new FetchError({ status: 401, url, body: '', headers: {} }), code: 'http', retryable: false },
    { error: new FetchError({ status: 404, url, body: '', headers: {} }), code: 'http', retryable: false },
    { error: new ShapeRequestError({ url, body: '{}', headers: {} }), code: 'bad-request', retryable: false },
    { error: new MissingHeadersError(url, ['electric-handle']), code: 'missing-headers', retryable: false },
    { error: new MalformedResponseError(url, 'not an array'), code: 'malformed-response', retryable: true },
    { error: new MalformedSchemaError('{'), code: 'malformed-schema', retryable: true },
    { error: new NullValueError('id'), code: 'null-value', retryable: false },
    { error: new ValueParseError('id', 'int8'), code: 'parse', retryable: false },
    { error: new InvalidOptionsError('no url'), code: 'invalid-options', retryable: false },
    { error: new ReservedParamError(['offset']), code: 'reserved-param', retryable: false },
    { error: new NetworkError(url, cause), code: 'network', retryable: true },
    { error: new RetriesExhaustedError(3, new NetworkError(url, cause)), code: 'retries-exhausted', retryable: false },
  ])('$error.name → $code, retryable=$retryable', ({ error, code, retryable }) => {
    expect(error).toBeInstanceOf(ShapeError)
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe(code)
    expect(error.retryable).toBe(retryable)
    expect(error.name).toBe(error.constructor.name)
    expect(error.message.length).toBeGreaterThan(0)
  })
})

describe('FetchError', () => {
  it('keeps status, url, body, parsed json and headers from a Headers object', () => {
    const error = new FetchError({
      status: 503,
      url,
      body: '{"code":"database_unreachable"}',
      headers: new Headers({ 'retry-after': '10' }),
    })
    expect(error).toMatchObject({ status: 503, url, body: '{"code":"database_unreachable"}' })
    expect(error.json).toEqual({ code: 'database_unreachable' })
    expect(error.headers).toEqual({ 'retry-after': '10' })
    expect(error.message).toContain('HTTP 503')
    expect(error.message).toContain('database_unreachable')
  })

  it('leaves json undefined for a non-JSON or empty body and truncates long bodies in the message', () => {
    const long = 'x'.repeat(2000)
    const error = new FetchError({ status: 500, url, body: long, headers: {} })
    expect(error.json).toBeUndefined()
    expect(error.message.length).toBeLessThan(700)
    expect(new FetchError({ status: 500, url, body: '', headers: {} }).json).toBeUndefined()
  })

  it('copies a plain headers record instead of keeping a reference', () => {
    const headers: Record<string, string> = { a: '1' }
    const error = new FetchError({ status: 500, url, body: '', headers })
    headers['a'] = '2'
    expect(error.headers).toEqual({ a: '1' })
  })
})

describe('ShapeRequestError', () => {
  it('summarizes the validation errors of a 400 body', () => {
    const body = '{"message":"Invalid request","errors":{"offset":["can\'t be blank"],"live":["a","b"]}}'
    const error = new ShapeRequestError({ url, body, headers: {} })
    expect(error.status).toBe(400)
    expect(error.errors).toEqual({ offset: ["can't be blank"], live: ['a', 'b'] })
    expect(error.message).toBe("Invalid request: offset: can't be blank, live: a; b")
    expect(error).toBeInstanceOf(FetchError)
  })

  it('keeps nested field errors and reads an {error} body', () => {
    const nested = new ShapeRequestError({ url, body: '{"errors":{"subset":{"order_by":["required"]}}}', headers: {} })
    expect(nested.errors).toEqual({ subset: { order_by: ['required'] } })
    expect(nested.message).toBe('Bad request: subset: {"order_by":["required"]}')
    expect(new ShapeRequestError({ url, body: '{"error":"Invalid JSON"}', headers: {} }).message).toBe('Invalid JSON')
    expect(new ShapeRequestError({ url, body: 'oops', headers: {} }).message).toBe('Bad request')
  })
})

describe('other errors', () => {
  it('MissingHeadersError names the headers and the proxy hint', () => {
    const error = new MissingHeadersError(url, ['electric-offset', 'electric-schema'])
    expect(error.missing).toEqual(['electric-offset', 'electric-schema'])
    expect(error.message).toContain('electric-offset, electric-schema')
    expect(error.message).toContain('proxy')
  })

  it('keeps causes', () => {
    const cause = new SyntaxError('bad')
    expect(new MalformedResponseError(url, 'x', { cause }).cause).toBe(cause)
    expect(new MalformedSchemaError('{', { cause }).cause).toBe(cause)
    expect(new ValueParseError('c', 'jsonb', { cause }).cause).toBe(cause)
    const network = new NetworkError(url, new TypeError('refused'))
    expect(network.message).toContain('refused')
    const exhausted = new RetriesExhaustedError(5, network)
    expect(exhausted.cause).toBe(network)
    expect(exhausted.attempts).toBe(5)
  })

  it('NetworkError accepts a non-Error cause', () => {
    expect(new NetworkError(url, 'reset').message).toContain('reset')
  })

  it('MalformedSchemaError truncates the header in its message', () => {
    const error = new MalformedSchemaError('y'.repeat(1000))
    expect(error.header).toHaveLength(1000)
    expect(error.message.length).toBeLessThan(300)
  })
})
