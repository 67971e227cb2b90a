import { describe, expect, it } from 'vitest'
import { parseShapeQuery } from '../../src/server/requestParams'

const parse = (query: string) => parseShapeQuery(new URLSearchParams(query))

describe('parseShapeQuery', () => {
  it('reads quoted identifiers, bracket params and Electric booleans', () => {
    const parsed = parse(
      'table="My"".Schema"."Items"&columns="Id",Title,"a,b"&offset=0_inf&handle=h&live&live_sse=yes&params[2]=b&params[1]=a&where=x',
    )
    expect(parsed).toEqual({
      ok: true,
      value: {
        schema: 'My".Schema',
        table: 'Items',
        columns: ['Id', 'title', 'a,b'],
        params: ['a', 'b'],
        where: 'x',
        replica: 'default',
        log: 'full',
        offset: '0_inf',
        handle: 'h',
        live: true,
        liveSse: true,
        cursor: undefined,
      },
    })
  })

  it('drops the handle at -1 and now, and honours experimental_live_sse only without live_sse', () => {
    expect(parse('table=t&offset=-1&handle=h')).toMatchObject({ ok: true, value: { handle: undefined } })
    expect(parse('table=t&offset=1_0&handle=h&live=true&experimental_live_sse=1')).toMatchObject({ value: { liveSse: true } })
    expect(parse('table=t&offset=1_0&handle=h&live=true&live_sse=false&experimental_live_sse=true')).toMatchObject({ value: { liveSse: false } })
    expect(parse('table=t&offset=1_0&handle=h&live=false')).toMatchObject({ value: { live: false } })
  })

  it('reports every cast error together, before offset and table checks', () => {
    expect(parse('replica=x&log=y&columns=a,,b')).toEqual({
      ok: false,
      errors: {
        offset: ["can't be blank"],
        replica: ['is invalid'],
        log: ['is invalid'],
        columns: ['Invalid zero-length delimited identifier'],
      },
    })
  })

  it.each(['subset__where=n%3E1', 'subset__limit=0&subset__order_by=id', 'subset__params=x', 'subset__anything'])(
    'leaves subset params (%s) out of the shape query: they are cast once the shape is found',
    (subset) => {
      expect(parse(`table=items&offset=-1&${subset}`)).toEqual(parse('table=items&offset=-1'))
      expect(parse(`table=items&replica=odd&${subset}`)).toEqual({
        ok: false,
        errors: { offset: ["can't be blank"], replica: ['is invalid'] },
      })
    },
  )

  it('reads a blank value (empty or whitespace) as absent, columns and params included', () => {
    expect(parse('table=t&offset=-1&columns=&params=&where=%20&replica=&log=%09')).toEqual(parse('table=t&offset=-1'))
    expect(parse('table=%20&offset=%20')).toEqual({ ok: false, errors: { offset: ["can't be blank"] } })
    expect(parse('table=t&offset=0_0&handle=%20')).toEqual({ ok: false, errors: { handle: ["can't be blank when offset != -1"] } })
  })

  it('refuses a param it reads given twice, with the cast errors, and ignores repeats of params it does not read', () => {
    expect(parse('table=t&table=u&offset=-1&params[1]=a&params[1]=b&subset__limit=1&subset__limit=2&replica=x')).toEqual({
      ok: false,
      errors: {
        table: ['must be given at most once'],
        'params[1]': ['must be given at most once'],
        subset__limit: ['must be given at most once'],
        replica: ['is invalid'],
      },
    })
    expect(parse('table=t&offset=-1&x=1&x=2&cache-buster=1&cache-buster=2&expired_handle=a&expired_handle=b')).toMatchObject({ ok: true })
  })

  it('refuses queryable_columns, an allow-list it does not enforce, rather than serving every column', () => {
    expect(parse('table=t&offset=-1&queryable_columns=id')).toEqual({
      ok: false,
      errors: { queryable_columns: ['is not supported by this server'] },
    })
  })

  it('refuses bad identifiers and gaps in params', () => {
    expect(parse('table=foo@bar&offset=-1')).toEqual({
      ok: false,
      errors: { table: ['Invalid unquoted identifier contains special characters: foo@bar'] },
    })
    expect(parse('table=t&columns="a"b"&offset=-1')).toMatchObject({ ok: false, errors: { columns: ['Invalid identifier with unescaped quote: a"b'] } })
    expect(parse('table=t&offset=-1&params[2]=b')).toMatchObject({ ok: false, errors: { params: [expect.any(String)] } })
  })
})
