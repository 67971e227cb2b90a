import { describe, expect, it } from 'vitest'
import { primaryKeyOf, rowKey, RowKeyError, rowKeyOf } from '../../src/core/rowKey'
import { ShapeClient } from '../../src/core/shapeClient'
import { createTestShapeServer } from '../../src/testing'

const awkward = ['a/b', 'x//y', 'say "hi"', '/', '', 'ünïcödé ✓', ' spaced ', '_', 'back\\slash']

describe('rowKey', () => {
  it('builds the keys of the docs', () => {
    expect(rowKey('items', 1)).toBe('"public"."items"/"1"')
    expect(rowKey('public.items', [1])).toBe('"public"."items"/"1"')
    expect(rowKey('app.order_lines', [7, 'a/b'])).toBe('"app"."order_lines"/"7"/"a//b"')
    expect(rowKey({ schema: 'public', name: 'Items' }, 'x')).toBe('"public"."Items"/"x"')
    expect(rowKey({ name: 'items' }, null)).toBe('"public"."items"/_')
  })

  it('reads table names as the server reads the table param', () => {
    expect(rowKey('Items', 1)).toBe('"public"."items"/"1"')
    expect(rowKey('"My Schema"."Odd""Name"', 1)).toBe('"My Schema"."Odd""Name"/"1"')
    expect(rowKey('"a.b".c', 1)).toBe('"a.b"."c"/"1"')
    for (const bad of ['', 'a.b.c', 'bad name', '"', '""', '"a"b"']) expect(() => rowKey(bad, 1)).toThrow(RowKeyError)
  })

  it('refuses a table that is neither a name nor a { schema, name } pair with RowKeyError, not a TypeError', () => {
    for (const bad of [undefined, null, 5, {}, { name: 5 }, { schema: 5, name: 'items' }]) {
      expect(() => rowKey(bad as never, 1)).toThrow(RowKeyError)
      expect(() => rowKeyOf({ id: 1 }, { table: bad as never, primaryKey: ['id'] })).toThrow(RowKeyError)
    }
  })

  it('turns JS values into their Postgres text and refuses values without a certain one', () => {
    expect(rowKey('t', [1n, true, false, -0, Number.NaN, Infinity, 1.5])).toBe('"public"."t"/"1"/"true"/"false"/"-0"/"NaN"/"Infinity"/"1.5"')
    expect(() => rowKey('t', [new Date()] as never)).toThrow(/Date: pass its Postgres text form/)
    expect(() => rowKey('t', [{}] as never)).toThrow(RowKeyError)
    expect(() => rowKey('t', [])).toThrow(RowKeyError)
  })

  it('prints a fractional number as PostgreSQL prints a float8, so a float key matches the row the server sent', () => {
    // Expected texts are PGlite's `v::float8::text`; JavaScript prints 1e-7, 0.00001, -0.000025, 1234567890123456.5.
    const cases: [number, string][] = [[1e-7, '1e-07'], [0.00001, '1e-05'], [-2.5e-5, '-2.5e-05'], [0.0001, '0.0001'], [5e-324, '5e-324'], [1234567890123456.5, '1.2345678901234565e+15'], [123456789012345.6, '123456789012345.6'], [0.1 + 0.2, '0.30000000000000004']]
    for (const [value, text] of cases) expect(rowKey('t', value)).toBe(`"public"."t"/"${text}"`)
  })

  it('rowKeyOf reads the primary key fields of a row, through the column mapper', () => {
    const options = { table: 'items', primaryKey: ['org_id', 'id'] }
    expect(rowKeyOf({ id: 2, org_id: 'o/1', title: 'x' }, options)).toBe('"public"."items"/"o//1"/"2"')
    const columnMapper = { encode: (name: string) => (name === 'orgId' ? 'org_id' : name), decode: (name: string) => (name === 'org_id' ? 'orgId' : name) }
    expect(rowKeyOf({ id: 2, orgId: 'o' }, { ...options, columnMapper })).toBe('"public"."items"/"o"/"2"')
    expect(() => rowKeyOf({ id: 2 }, options)).toThrow(/no "org_id" field/)
  })

  it('primaryKeyOf orders the schema columns by pk_index', () => {
    expect(primaryKeyOf({ b: { type: 'int4', pk_index: 1 }, title: { type: 'text' }, a: { type: 'text', pk_index: 0 } })).toEqual(['a', 'b'])
    expect(primaryKeyOf({ title: { type: 'text' } })).toEqual([])
  })

  it('matches the keys the dev server sends, awkward values and composite keys included', async () => {
    const rows = awkward.map((code, index) => ({ code, n: index, flag: index % 2 === 0, label: `row ${index}` }))
    const server = createTestShapeServer({
      tables: [
        {
          schema: 'Odd "Schema"',
          name: 'weird/table',
          columns: [
            { name: 'code', type: 'text', primaryKey: true },
            { name: 'n', type: 'int8', primaryKey: true },
            { name: 'flag', type: 'bool', primaryKey: true },
            { name: 'label', type: 'text' },
          ],
          rows,
        },
      ],
    })
    const client = new ShapeClient({ fetch: server.fetch, visibility: null })
    const table = '"Odd ""Schema"""."weird/table"'
    const shape = client.shape({ url: server.url, params: { table } })
    const release = shape.retain()
    await shape.whenUpToDate()
    const keys = [...shape.getSnapshot().keys].sort()
    const built = rows.map((row) => rowKey(table, [row.code, BigInt(row.n), row.flag])).sort()
    expect(built).toEqual(keys)
    expect(rows.map((row) => shape.rowKey({ ...row, n: BigInt(row.n) })).sort()).toEqual(keys)
    for (const key of keys) expect(shape.getRow(key)).toBeDefined()
    release()
    client.dispose()
    await server.close()
  })
})
