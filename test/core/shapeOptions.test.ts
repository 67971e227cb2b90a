import { describe, expect, it } from 'vitest'
import { InvalidOptionsError, ReservedParamError } from '../../src/core/errors'
import type { ShapeOptions } from '../../src/core/shapeOptions'
import { shapeOptions, validateShapeOptions } from '../../src/core/shapeOptions'
import { ShapeClient } from '../../src/core/shapeClient'
import { ReferenceIds, shapeKey } from '../../src/core/shapeKey'

const url = 'http://localhost:3000/v1/shape'

describe('validateShapeOptions', () => {
  it('accepts a minimal shape', () => {
    expect(() => validateShapeOptions({ url, params: { table: 'items' } })).not.toThrow()
  })

  it.each([
    ['no url', { params: { table: 'items' } }],
    ['a relative url outside a browser', { url: '/v1/shape', params: { table: 'items' } }],
    ['no params', { url }],
    ['no table', { url, params: {} }],
    ['an empty table', { url, params: { table: ' ' } }],
    ['a bad replica', { url, params: { table: 'items', replica: 'partial' } }],
    ['a bad log mode', { url, params: { table: 'items' }, log: 'all' }],
    ['empty columns', { url, params: { table: 'items', columns: [] } }],
    ['non-string positional params', { url, params: { table: 'items', params: [1] } }],
    ['a non-function onError', { url, params: { table: 'items' }, onError: 'x' }],
  ])('throws InvalidOptionsError for %s', (_name, options) => {
    expect(() => validateShapeOptions(options as unknown as ShapeOptions<unknown>)).toThrow(InvalidOptionsError)
  })

  it.each(['offset', 'handle', 'live', 'cursor', 'cache-buster', 'live_sse', 'expired_handle', 'subset__where'])(
    'throws ReservedParamError for a user param named %s',
    (name) => {
      let error: unknown
      try {
        validateShapeOptions({ url, params: { table: 'items', [name]: 'x' } })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ReservedParamError)
      expect((error as ReservedParamError).params).toEqual([name])
    },
  )
})

describe('shapeKey', () => {
  it('ignores param order, array-vs-record positional params and explicit defaults', () => {
    const ids = new ReferenceIds()
    const a = shapeKey({ url, params: { table: 'items', where: 'a = $1', params: ['x'], tenant: 't1' } }, ids)
    const b = shapeKey({ url, params: { tenant: 't1', params: { '1': 'x' }, where: 'a = $1', table: 'items', replica: 'default' }, log: 'full' }, ids)
    expect(a).toBe(b)
  })

  it('differs for every part of the definition', () => {
    const ids = new ReferenceIds()
    const base: ShapeOptions = { url, params: { table: 'items' } }
    const variants: ShapeOptions[] = [
      { ...base, url: `${url}?x=1` },
      { url, params: { table: 'other' } },
      { url, params: { table: 'items', where: 'a' } },
      { url, params: { table: 'items', params: ['1'] } },
      { url, params: { table: 'items', columns: ['id'] } },
      { url, params: { table: 'items', replica: 'full' } },
      { ...base, log: 'changes_only' },
      { url, params: { table: 'items', tenant: 'x' } },
      { ...base, headers: { Authorization: 'a' } },
      { ...base, liveSse: true },
      { ...base, lazyJson: true },
    ]
    const keys = new Set([base, ...variants].map((options) => shapeKey(options, ids)))
    expect(keys.size).toBe(variants.length + 1)
  })

  it('compares functions by identity through per-instance ids, never by source', () => {
    const ids = new ReferenceIds()
    const token1 = () => 'same source'
    const token2 = () => 'same source'
    const transformer = (row: Record<string, unknown>) => row
    const withToken = (token: () => string) => shapeKey({ url, params: { table: 'items' }, headers: { Authorization: token }, transformer }, ids)
    expect(withToken(token1)).toBe(withToken(token1))
    expect(withToken(token1)).not.toBe(withToken(token2))
    const parser = { int4: (v: string) => Number(v) }
    expect(shapeKey({ url, params: { table: 'items' }, parser }, ids)).toBe(shapeKey({ url, params: { table: 'items' }, parser }, ids))
    expect(shapeKey({ url, params: { table: 'items' }, parser }, ids)).not.toBe(
      shapeKey({ url, params: { table: 'items' }, parser: { int4: (v: string) => Number(v) } }, ids),
    )
  })

  it('counts a plain-object parser or column mapper by its entries, any other object by reference', () => {
    const ids = new ReferenceIds()
    const int4 = (v: string) => Number(v)
    const encode = (name: string) => name
    const decode = (name: string) => name
    const key = (options: Partial<ShapeOptions>) => shapeKey({ url, params: { table: 'items' }, ...options }, ids)
    // An inline object of the same functions is the same parser (as the hooks see an inline options object).
    expect(key({ parser: { int4 } })).toBe(key({ parser: { int4 } }))
    expect(key({ parser: { int4 } })).not.toBe(key({ parser: { int8: int4 } }))
    expect(key({ parser: { int4 } })).not.toBe(key({}))
    expect(key({ columnMapper: { encode, decode } })).toBe(key({ columnMapper: { decode, encode } }))
    expect(key({ columnMapper: { encode, decode } })).not.toBe(key({ columnMapper: { encode: decode, decode: encode } }))
    class Mapper {
      encode(name: string): string {
        return name
      }
      decode(name: string): string {
        return name
      }
    }
    const mapper = new Mapper()
    expect(key({ columnMapper: mapper })).toBe(key({ columnMapper: mapper }))
    expect(key({ columnMapper: mapper })).not.toBe(key({ columnMapper: new Mapper() }))
  })

  it('treats a missing param and an undefined one alike', () => {
    const ids = new ReferenceIds()
    expect(shapeKey({ url, params: { table: 'items' } }, ids)).toBe(shapeKey({ url, params: { table: 'items', where: undefined, tenant: undefined } }, ids))
  })

  it('does not count onError or backoff', () => {
    const ids = new ReferenceIds()
    expect(shapeKey({ url, params: { table: 'items' }, onError: () => undefined, backoff: { maxRetries: 1 } }, ids)).toBe(shapeKey({ url, params: { table: 'items' } }, ids))
  })
})

describe('shapeOptions', () => {
  it('returns the options it is given, so one definition serves prefetch, client.shape and the hooks', () => {
    const given: ShapeOptions<{ id: number }> = { url, params: { table: 'items' }, liveSse: true }
    const defined = shapeOptions(given)
    expect(defined).toBe(given)
    const client = new ShapeClient({ visibility: null })
    expect(client.shape(defined)).toBe(client.shape({ url, params: { table: 'items' }, liveSse: true }))
    client.dispose()
  })
})
