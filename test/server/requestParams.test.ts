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

  it('refuses bad identifiers and gaps in params', () => {
    expect(parse('table=foo@bar&offset=-1')).toEqual({
      ok: false,
      errors: { table: ['Invalid unquoted identifier contains special characters: foo@bar'] },
    })
    expect(parse('table=t&columns="a"b"&offset=-1')).toMatchObject({ ok: false, errors: { columns: ['Invalid identifier with unescaped quote: a"b'] } })
    expect(parse('table=t&offset=-1&params[2]=b')).toMatchObject({ ok: false, errors: { params: [expect.any(String)] } })
  })
})
