import { describe, expect, it } from 'vitest'
import { castSubsetParams, MAX_SUBSET_BODY_CHARS, subsetFieldsOfBody, subsetFieldsOfSearch } from '../../src/server/subsetParams'

describe('subset params', () => {
  it('a GET asks for a subset iff it has a subset__ param, even an empty one', () => {
    expect(subsetFieldsOfSearch(new URLSearchParams('table=t&offset=-1'))).toBeUndefined()
    expect(subsetFieldsOfSearch(new URLSearchParams('table=t&my_subset__x=1'))).toBeUndefined()
    expect(subsetFieldsOfSearch(new URLSearchParams('subset__where_expr='))).toEqual({ where_expr: '' })
    expect(subsetFieldsOfSearch(new URLSearchParams('subset__where=id%3E1&subset__limit=2'))).toEqual({ where: 'id>1', limit: '2' })
  })

  it('casts strings and numbers alike, blanks as absent, params to strings', () => {
    const expected = { where: 'n > $1', params: ['1', 'x', ''], limit: 5, offset: 0, orderBy: 'id' }
    expect(castSubsetParams({ where: 'n > $1', params: '{"1":1,"2":"x","3":null}', limit: '5', offset: '0', order_by: 'id' })).toEqual({
      ok: true,
      value: expected,
    })
    expect(castSubsetParams({ where: 'n > $1', params: { 1: 1, 2: 'x', 3: null }, limit: 5, offset: 0, order_by: 'id', where_expr: {} })).toEqual({
      ok: true,
      value: expected,
    })
    expect(castSubsetParams({ where: '  ', params: '', limit: '', order_by: '' })).toEqual({
      ok: true,
      value: { where: undefined, params: [], limit: undefined, offset: undefined, orderBy: undefined },
    })
  })

  it('reports every cast and validation error together', () => {
    expect(castSubsetParams({ where: 1, order_by: ['id'], limit: 2.5, offset: 'x', params: '[1]' })).toEqual({
      ok: false,
      errors: { where: ['is invalid'], order_by: ['is invalid'], limit: ['is invalid'], offset: ['is invalid'], params: ['params must be a JSON object'] },
    })
    expect(castSubsetParams({ limit: -1, offset: -1 })).toEqual({
      ok: false,
      errors: {
        limit: ['must be greater than 0'],
        offset: ['must be greater than or equal to 0'],
        order_by: ['order_by is required when limit or offset is present'],
      },
    })
  })

  it('numbers params densely from 1', () => {
    expect(castSubsetParams({ params: { 2: 'b', 1: 'a' } })).toMatchObject({ ok: true, value: { params: ['a', 'b'] } })
    expect(castSubsetParams({ params: { 1: 'a', 3: 'c' } })).toEqual({
      ok: false,
      errors: { params: ['Parameters must be numbered sequentially, starting from 1'] },
    })
    expect(castSubsetParams({ params: { a: 'x' } })).toEqual({ ok: false, errors: { params: ['Invalid parameter name: a'] } })
    expect(castSubsetParams({ params: { 1: { nested: true } } })).toEqual({ ok: false, errors: { params: ['Parameter $1 must be a string'] } })
  })

  it('takes a JSON object body, blank as {}, and refuses the rest as Electric does', () => {
    expect(subsetFieldsOfBody(' ')).toEqual({ ok: true, fields: {} })
    expect(subsetFieldsOfBody('{"limit":1}')).toEqual({ ok: true, fields: { limit: 1 } })
    expect(subsetFieldsOfBody('{')).toEqual({ ok: false, status: 400, body: { error: 'Invalid JSON in request body', details: expect.any(String) } })
    expect(subsetFieldsOfBody('[]')).toEqual({ ok: false, status: 400, body: { error: 'Request body must be a JSON object' } })
    expect(subsetFieldsOfBody(' '.repeat(MAX_SUBSET_BODY_CHARS + 1))).toEqual({ ok: false, status: 413, body: { error: 'Request body too large' } })
  })
})
