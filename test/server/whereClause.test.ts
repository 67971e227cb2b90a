import { loadModule, parseSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'
import type { WireRow } from '../../src/core/protocol'
import type { TableDescription } from '../../src/server/sources/source'
import { compileWhere, WhereClauseError } from '../../src/server/whereClause'
import { allTypes, column } from './where/tables'

const items: TableDescription = {
  schema: 'public',
  name: 'items',
  primaryKey: ['id'],
  columns: [
    column('id', 'int4', { notNull: true, pkIndex: 0 }),
    column('name', 'text'),
    column('price', 'numeric'),
    column('qty', 'int4'),
    column('active', 'bool'),
    column('created', 'timestamptz'),
    column('code', 'bpchar'),
    column('Title', 'text'),
    column('meta', 'jsonb'),
  ],
}

function row(values: Partial<Record<string, string | null>>): WireRow {
  const result: WireRow = {}
  for (const { name } of items.columns) result[name] = values[name] ?? null
  return result
}

async function refusal(where: string, params: readonly string[] = [], table = items): Promise<WhereClauseError> {
  const error = await compileWhere({ where, params, table }).then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof WhereClauseError)) throw new Error(`expected a WhereClauseError for ${where}, got ${String(error)}`)
  return error
}

describe('compileWhere: matches', () => {
  const cases: { where: string; params?: string[]; rows: Partial<Record<string, string | null>>[]; expected: boolean[] }[] = [
    { where: 'id = 1', rows: [{ id: '1' }, { id: '2' }], expected: [true, false] },
    { where: 'id <> 1', rows: [{ id: '1' }, { id: '2' }], expected: [false, true] },
    { where: 'id != $1', params: ['1'], rows: [{ id: '1' }, { id: '2' }], expected: [false, true] },
    { where: 'qty < 3', rows: [{ qty: '2' }, { qty: '3' }, { qty: null }], expected: [true, false, false] },
    { where: 'qty <= 3 AND qty >= 3', rows: [{ qty: '2' }, { qty: '3' }], expected: [false, true] },
    { where: 'qty + 1 > 3', rows: [{ qty: '2' }, { qty: '3' }], expected: [false, true] },
    { where: 'qty - 1 = 1', rows: [{ qty: '2' }, { qty: '3' }], expected: [true, false] },
    { where: 'qty * 2 = 6', rows: [{ qty: '3' }, { qty: '4' }], expected: [true, false] },
    { where: 'qty / 2 = 1', rows: [{ qty: '3' }, { qty: '4' }, { qty: '-3' }], expected: [true, false, false] },
    { where: 'qty % 3 = -1', rows: [{ qty: '-4' }, { qty: '4' }], expected: [true, false] },
    { where: '-qty = 2', rows: [{ qty: '-2' }, { qty: '2' }], expected: [true, false] },
    { where: 'abs(qty) = 2', rows: [{ qty: '-2' }, { qty: '3' }], expected: [true, false] },
    // numeric compares exactly: 0.1 + 0.2 is 0.3, and scale does not matter.
    { where: 'price + 0.2 = 0.3', rows: [{ price: '0.1' }, { price: '0.10000000000000001' }], expected: [true, false] },
    { where: 'price / 3 = 0.33333333333333333333', rows: [{ price: '1' }, { price: '1.0000000000000000000001' }], expected: [true, false] },
    { where: 'price / 3 = 0.3333333333333333', rows: [{ price: '1' }], expected: [false] },
    { where: 'price = 1.5', rows: [{ price: '1.50' }, { price: '1.05' }], expected: [true, false] },
    { where: 'price > qty', rows: [{ price: '2.5', qty: '2' }, { price: '2', qty: '2' }], expected: [true, false] },
    { where: 'price > $1', params: ['99999999999999999999.5'], rows: [{ price: '100000000000000000000' }, { price: '99999999999999999999.4' }], expected: [true, false] },
    { where: 'price = $1', params: ['NaN'], rows: [{ price: 'NaN' }, { price: '0' }], expected: [true, false] },
    { where: "name = 'abc'", rows: [{ name: 'abc' }, { name: 'ABC' }, { name: null }], expected: [true, false, false] },
    { where: "name < 'b'", rows: [{ name: 'a' }, { name: 'B' }, { name: 'b' }], expected: [true, true, false] },
    // Code point order (C.UTF-8), not UTF-16 order: U+1F600 sorts after U+FFFD.
    { where: "name > '\uFFFD'", rows: [{ name: '😀' }, { name: 'z' }], expected: [true, false] },
    { where: "name LIKE 'a%'", rows: [{ name: 'abc' }, { name: 'a' }, { name: 'ba' }], expected: [true, true, false] },
    { where: "name LIKE 'a_c'", rows: [{ name: 'abc' }, { name: 'ac' }, { name: 'a😀c' }], expected: [true, false, true] },
    { where: String.raw`name LIKE '100\%'`, rows: [{ name: '100%' }, { name: '1000' }], expected: [true, false] },
    { where: "name NOT LIKE '%x'", rows: [{ name: 'ax' }, { name: 'ay' }, { name: null }], expected: [false, true, false] },
    { where: "name ILIKE 'ab%'", rows: [{ name: 'ABC' }, { name: 'xab' }], expected: [true, false] },
    { where: "name NOT ILIKE 'ab%'", rows: [{ name: 'ABC' }, { name: 'xab' }], expected: [false, true] },
    { where: "name ~~ 'a%'", rows: [{ name: 'ab' }, { name: 'ba' }], expected: [true, false] },
    { where: "name !~~* 'A%'", rows: [{ name: 'ab' }, { name: 'ba' }], expected: [false, true] },
    { where: "lower(name) = 'abc'", rows: [{ name: 'AbC' }, { name: 'abd' }], expected: [true, false] },
    { where: "upper(name) = 'ABC'", rows: [{ name: 'abc' }, { name: 'abd' }], expected: [true, false] },
    { where: 'length(name) = 2', rows: [{ name: 'é😀' }, { name: 'abc' }], expected: [true, false] },
    { where: 'char_length(name) = 1', rows: [{ name: 'é' }, { name: '' }], expected: [true, false] },
    { where: "name || '-' || id = 'a-1'", rows: [{ name: 'a', id: '1' }, { name: 'a', id: '2' }], expected: [true, false] },
    { where: 'active', rows: [{ active: 't' }, { active: 'true' }, { active: 'f' }, { active: null }], expected: [true, true, false, false] },
    { where: 'NOT active', rows: [{ active: 't' }, { active: 'false' }, { active: null }], expected: [false, true, false] },
    { where: 'active IS NOT TRUE', rows: [{ active: 't' }, { active: 'f' }, { active: null }], expected: [false, true, true] },
    { where: 'active IS FALSE', rows: [{ active: 't' }, { active: 'f' }, { active: null }], expected: [false, true, false] },
    { where: 'active IS NOT FALSE', rows: [{ active: 't' }, { active: 'f' }, { active: null }], expected: [true, false, true] },
    { where: 'active IS TRUE', rows: [{ active: 't' }, { active: null }], expected: [true, false] },
    { where: 'active IS UNKNOWN', rows: [{ active: 't' }, { active: null }], expected: [false, true] },
    { where: 'active = $1', params: ['yes'], rows: [{ active: 't' }, { active: 'f' }], expected: [true, false] },
    // Three-valued logic: NULL OR true is true, NULL AND false is false, NOT NULL is NULL.
    { where: 'active OR id = 1', rows: [{ id: '1' }, { id: '2' }], expected: [true, false] },
    { where: 'NOT (active AND id = 1)', rows: [{ id: '1' }, { id: '2' }], expected: [false, true] },
    { where: 'name IS NULL', rows: [{ name: null }, { name: '' }], expected: [true, false] },
    { where: 'name IS NOT NULL', rows: [{ name: null }, { name: '' }], expected: [false, true] },
    { where: `meta::text = '{"a": 1}'`, rows: [{ meta: '{"a": 1}' }, { meta: '{"a": 2}' }, { meta: null }], expected: [true, false, false] },
    { where: 'meta IS NOT NULL', rows: [{ meta: '{}' }, { meta: null }], expected: [true, false] },
    { where: 'id IN (1, 3)', rows: [{ id: '1' }, { id: '2' }, { id: '3' }], expected: [true, false, true] },
    { where: 'id NOT IN (1, 3)', rows: [{ id: '1' }, { id: '2' }], expected: [false, true] },
    { where: 'id NOT IN (1, NULL)', rows: [{ id: '1' }, { id: '2' }], expected: [false, false] },
    { where: 'id IN ($1, $2)', params: ['2', '3'], rows: [{ id: '1' }, { id: '3' }], expected: [false, true] },
    { where: 'qty BETWEEN 1 AND 3', rows: [{ qty: '1' }, { qty: '3' }, { qty: '4' }], expected: [true, true, false] },
    { where: 'qty NOT BETWEEN 1 AND 3', rows: [{ qty: '0' }, { qty: '2' }, { qty: null }], expected: [true, false, false] },
    { where: 'qty BETWEEN SYMMETRIC 3 AND 1', rows: [{ qty: '2' }, { qty: '4' }], expected: [true, false] },
    { where: 'qty IS DISTINCT FROM 1', rows: [{ qty: null }, { qty: '1' }, { qty: '2' }], expected: [true, false, true] },
    { where: 'qty IS NOT DISTINCT FROM NULL', rows: [{ qty: null }, { qty: '1' }], expected: [true, false] },
    { where: 'COALESCE(qty, 0) = 0', rows: [{ qty: null }, { qty: '0' }, { qty: '1' }], expected: [true, true, false] },
    { where: "created > '2024-01-01 10:00:00+02'", rows: [{ created: '2024-01-01 08:00:00.5+00' }, { created: '2024-01-01 08:00:00+00' }], expected: [true, false] },
    { where: 'created >= $1', params: ['2024-06-01'], rows: [{ created: '2024-06-01 00:00:00+00' }, { created: '2024-05-31 23:59:59.999999+00' }], expected: [true, false] },
    { where: 'created::date = $1', params: ['2024-06-01'], rows: [{ created: '2024-06-01 23:59:59+00' }, { created: '2024-06-02 00:00:00+00' }], expected: [true, false] },
    { where: "created < 'infinity'", rows: [{ created: '2024-01-01 00:00:00+00' }, { created: 'infinity' }], expected: [true, false] },
    // character(n): trailing spaces are insignificant.
    { where: "code = 'ab'", rows: [{ code: 'ab ' }, { code: 'abc' }], expected: [true, false] },
    { where: '"Title" = $1', params: ["it's"], rows: [{ Title: "it's" }, { Title: 'its' }], expected: [true, false] },
    { where: 'items.id = 1 AND public.items.qty = 2', rows: [{ id: '1', qty: '2' }, { id: '1', qty: '3' }], expected: [true, false] },
    { where: "qty::text = '2'", rows: [{ qty: '2' }, { qty: '20' }], expected: [true, false] },
    { where: "name::int4 > 2", rows: [{ name: '3' }, { name: '1' }], expected: [true, false] },
    // Rows on which Postgres would raise an error match nothing, negated or not.
    { where: 'id / qty > 0', rows: [{ id: '1', qty: '0' }, { id: '1', qty: '1' }], expected: [false, true] },
    { where: 'NOT (id / qty > 0)', rows: [{ id: '1', qty: '0' }, { id: '1', qty: '-1' }], expected: [false, true] },
    // …but OR is true if any argument is, and AND false if any is, whatever raises elsewhere (Postgres may
    // evaluate the arguments in any order).
    { where: 'id / qty > 0 OR id = 1', rows: [{ id: '1', qty: '0' }, { id: '2', qty: '0' }], expected: [true, false] },
    { where: 'NOT (id / qty > 0 AND id = 2)', rows: [{ id: '1', qty: '0' }, { id: '2', qty: '0' }], expected: [true, false] },
    // Constant parts fold as in the planner: a NULL operand makes a strict operation NULL without evaluating it.
    { where: '(qty / 0 <> NULL) IS NULL', rows: [{ qty: '1' }], expected: [true] },
    { where: 'qty * 2147483647 > 0', rows: [{ qty: '2' }, { qty: '1' }], expected: [false, true] },
    { where: "name::int4 > 2", rows: [{ name: 'x' }], expected: [false] },
    { where: 'true', rows: [{}], expected: [true] },
    { where: 'NULL', rows: [{}], expected: [false] },
    { where: "'t'", rows: [{}], expected: [true] },
  ]

  it.each(cases)('$where', async ({ where, params = [], rows, expected }) => {
    const compiled = await compileWhere({ where, params, table: items })
    expect(rows.map((values) => compiled.matches(row(values)))).toEqual(expected)
  })

  it('treats a column missing from the row (a key-only delete) as NULL', async () => {
    const compiled = await compileWhere({ where: 'qty IS NULL AND id = 1', params: [], table: items })
    expect(compiled.matches({ id: '1' })).toBe(true)
    expect(compiled.matches({ id: '1', qty: '2' })).toBe(false)
  })
})

describe('compileWhere: refusals', () => {
  const cases: { where: string; params?: string[]; field?: 'where' | 'params'; message: string | RegExp }[] = [
    { where: 'nme = 1', message: 'Unknown column "nme" in where clause' },
    { where: '"ID" = 1', message: 'Unknown column "ID" in where clause' },
    { where: 'title = 1', message: 'Unknown column "title" in where clause' },
    { where: 'others.id = 1', message: 'Column reference "others.id" does not refer to table "public"."items"' },
    { where: 'other.items.id = 1', message: 'Column reference "other.items.id" does not refer to table "public"."items"' },
    { where: 'id = 1 OR pg_sleep(10) IS NULL', message: `Function "pg_sleep" is not allowed in a shape's where clause` },
    { where: 'created < now()', message: `Function "now" is not allowed in a shape's where clause` },
    { where: 'random() > 0.5', message: `Function "random" is not allowed in a shape's where clause` },
    { where: 'created < CURRENT_TIMESTAMP', message: `Function "CURRENT_TIMESTAMP" is not allowed in a shape's where clause` },
    { where: 'pg_catalog.pg_sleep(1) IS NULL', message: `Function "pg_catalog.pg_sleep" is not allowed in a shape's where clause` },
    { where: 'evil.lower(name) = 1', message: `Function "evil.lower" is not allowed in a shape's where clause` },
    { where: 'count(*) > 1', message: `Function "count" is not allowed in a shape's where clause` },
    { where: 'id IN (SELECT id FROM secrets)', message: "Subqueries are not supported in a shape's where clause" },
    { where: 'EXISTS (SELECT 1)', message: "Subqueries are not supported in a shape's where clause" },
    { where: 'id = (SELECT 1)', message: "Subqueries are not supported in a shape's where clause" },
    { where: 'a = AND b', message: 'Invalid where clause: syntax error at or near "AND" (at character 5)' },
    { where: 'id = 1 AND', message: 'Invalid where clause: syntax error at end of input (at character 11)' },
    { where: 'id = 1) OR (true', message: /^Invalid where clause: syntax error at or near "\)"/ },
    { where: '   ', message: 'Invalid where clause: the where clause is empty' },
    { where: '1=1; DROP TABLE x', message: /^Invalid where clause: it must be a single boolean expression/ },
    { where: 'true UNION SELECT 1', message: /^Invalid where clause: it must be a single boolean expression/ },
    { where: 'true ORDER BY 1', message: /^Invalid where clause: it must be a single boolean expression/ },
    { where: 'true LIMIT 1', message: /^Invalid where clause: it must be a single boolean expression/ },
    { where: 'true GROUP BY id', message: /^Invalid where clause: it must be a single boolean expression/ },
    { where: 'id = $3', params: ['1', '2'], field: 'params', message: 'Parameter $3 is not bound: 2 params given' },
    { where: 'id = $1', field: 'params', message: 'Parameter $1 is not bound: 0 params given' },
    { where: 'id = $1', params: ['abc'], field: 'params', message: 'Invalid value for $1: invalid input syntax for type integer: "abc"' },
    { where: 'id = $1', params: ['99999999999'], field: 'params', message: 'Invalid value for $1: value "99999999999" is out of range for type integer' },
    { where: 'id = $1 AND name = $1', params: ['1'], field: 'params', message: 'Parameter $1 is used both as integer and as text; cast it explicitly' },
    { where: 'name LIKE $1', params: ['abc\\'], field: 'params', message: 'Invalid value for $1: LIKE pattern must not end with escape character' },
    { where: "id = 'abc'", message: 'invalid input syntax for type integer: "abc"' },
    { where: "created > 'yesterday'", message: /^invalid or unsupported input for type timestamp with time zone: "yesterday"/ },
    { where: 'id', message: 'argument of WHERE must be type boolean, not type integer' },
    { where: 'name', message: 'argument of WHERE must be type boolean, not type text' },
    { where: "'abc'", message: 'invalid input syntax for type boolean: "abc"' },
    { where: 'id AND active', message: 'argument of AND must be type boolean, not type integer' },
    { where: 'id = name', message: 'operator does not exist: integer = text' },
    { where: 'name + 1 > 0', message: 'operator does not exist: text + integer' },
    { where: 'active || name', message: /^argument of WHERE must be type boolean/ },
    { where: 'id LIKE 1', message: 'operator does not exist: integer ~~ integer' },
    { where: '-name > 0', message: 'operator does not exist: - text' },
    { where: 'price::float8 % 2 > 0', message: 'operator does not exist: double precision % integer' },
    { where: "(active || active) = 'x'", message: 'operator does not exist: boolean || boolean' },
    { where: "code LIKE 'a%'", message: /^LIKE on character\(n\) values is not supported/ },
    { where: "meta = '{}'", message: "Column \"meta\" has type jsonb, which a shape's where clause can only test with IS [NOT] NULL or compare as text (meta::text)" },
    { where: 'id = ANY($1)', params: ['{1,2}'], message: "ANY (array) comparisons are not supported in a shape's where clause" },
    { where: "name SIMILAR TO 'a'", message: "SIMILAR TO is not supported in a shape's where clause" },
    { where: "name ~ 'a'", message: `Operator "~" is not allowed in a shape's where clause` },
    { where: "name LIKE 'a' ESCAPE '#'", message: /^LIKE … ESCAPE is not supported/ },
    { where: 'CASE WHEN id = 1 THEN true ELSE false END', message: "CASE expressions are not supported in a shape's where clause" },
    { where: 'ROW(id, qty) = ROW(1, 2)', message: "Row constructors are not supported in a shape's where clause" },
    { where: "id::regclass = 'x'", message: `Cast to type "regclass" is not allowed in a shape's where clause` },
    { where: "price::numeric(10,2) = 1", message: /^Casts with a type modifier/ },
    { where: "created::text = 'x'", message: "Cast from timestamp with time zone to text is not supported in a shape's where clause" },
    { where: 'id = 1 OR true\u0000; DROP TABLE items', message: 'Invalid where clause: it contains a NUL character' },
    { where: 'name = $1', params: ['a\u0000b'], field: 'params', message: 'Parameter $1 contains a NUL character' },
    { where: 'id = 1 OR 1 / 0 = 1', message: 'Invalid where clause: division by zero' },
    { where: 'id = 1 OR $1 / 0 = 1', params: ['5'], message: 'Invalid where clause: division by zero' },
    { where: "id = 1 AND 'x'::text::int4 = 1", message: 'Invalid where clause: invalid input syntax for type integer: "x"' },
    { where: 'items.* IS NULL', message: `"*" is not allowed in a shape's where clause` },
    { where: "name COLLATE \"C\" < 'b'", message: "COLLATE clauses are not supported in a shape's where clause" },
    { where: "B'101' IS NULL", message: "Bit-string literals are not supported in a shape's where clause" },
    { where: `id = 1 AND ${'NOT '.repeat(300)} true`, message: /^The where clause is nested too deeply/ },
  ]

  it.each(cases)('$where', async ({ where, params = [], field = 'where', message }) => {
    const error = await refusal(where, params)
    expect(error.field).toBe(field)
    expect(error.messages).toHaveLength(1)
    expect(error.messages[0]).toMatch(typeof message === 'string' ? new RegExp(`^${escapeRegExp(message)}$`) : message)
  })

  it('refuses ::text on types whose text cast differs from their wire text', async () => {
    const table: TableDescription = { ...items, columns: [...items.columns, column('ip', 'inet')] }
    const error = await refusal("ip::text = '10.0.0.1'", [], table)
    expect(error.messages).toEqual(["Cast from inet to text is not supported in a shape's where clause"])
  })

  it('refuses params that are not strings', async () => {
    const error = await refusal('id = $1', [1 as unknown as string])
    expect(error).toMatchObject({ field: 'params', messages: ['Parameter $1 must be a string'] })
  })
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('compileWhere: rendered SQL', () => {
  beforeAll(async () => {
    await loadModule()
  })

  /** The parse tree without source positions, to compare shapes. */
  function shape(sql: string): unknown {
    return JSON.parse(JSON.stringify(parseSync(`SELECT 1 WHERE ${sql}`)), (key, value: unknown) =>
      key === 'location' ? undefined : value,
    )
  }

  const wheres: { where: string; params?: string[] }[] = [
    { where: "id = 1 AND name LIKE 'a%' OR NOT active" },
    { where: 'price BETWEEN $1 AND 3.5 AND qty IN (1, 2, $2)', params: ['1', '3'] },
    { where: "lower(name) || id = $1 AND COALESCE(qty, 0) <> -1", params: ['x'] },
    { where: "\"Title\" ILIKE 'it''s%' AND name = 'a\\b' AND meta IS NULL" },
    { where: "created > '2024-01-01 10:00:00+02' AND code = 'ab ' AND active IS NOT FALSE" },
    { where: 'abs(-qty) > 1 AND price * 2 + qty > 1.5 AND qty IS DISTINCT FROM NULL' },
  ]

  it.each(wheres)('is stable when compiled again: $where', async ({ where, params = [] }) => {
    const first = await compileWhere({ where, params, table: items })
    const second = await compileWhere({ where: first.sql, params: first.params, table: items })
    expect(second.sql).toBe(first.sql)
    expect(second.params).toEqual(first.params)
    expect(shape(second.sql)).toEqual(shape(first.sql))
  })

  it('quotes identifiers and literals and casts every literal and placeholder', async () => {
    const compiled = await compileWhere({
      where: `"Title" = 'it''s' AND name = E'a\\\\b' AND qty = $1`,
      params: ['2'],
      table: items,
    })
    expect(compiled.sql).toBe(`(("Title" = 'it''s'::text) AND ("name" = E'a\\\\b'::text) AND ("qty" = $1::int4))`)
    expect(compiled.columns).toEqual(['name', 'qty', 'Title'])
  })

  it('keeps only the params the clause uses, renumbered in order', async () => {
    const compiled = await compileWhere({ where: 'qty = $3 AND id = $2', params: ['unused', '7', '3'], table: items })
    expect(compiled.sql).toBe('(("qty" = $2::int4) AND ("id" = $1::int4))')
    expect(compiled.params).toEqual(['7', '3'])
  })

  it('drops comments and carries no user text into the SQL', async () => {
    const compiled = await compileWhere({ where: 'id = 1 /* hi */ -- ; DROP TABLE items', params: [], table: items })
    expect(compiled.sql).toBe(`("id" = '1'::int4)`)
  })

  it('binds hostile params instead of splicing them', async () => {
    const hostile = "x'); DROP TABLE items; --"
    const compiled = await compileWhere({ where: 'name = $1', params: [hostile], table: items })
    expect(compiled.sql).toBe('("name" = $1::text)')
    expect(compiled.params).toEqual([hostile])
    expect(compiled.matches(row({ name: hostile }))).toBe(true)
  })

  it('renders quoted column names with embedded quotes', async () => {
    const table: TableDescription = { ...allTypes, columns: [column('we"ird', 'text')] }
    const compiled = await compileWhere({ where: '"we""ird" = \'a\'', params: [], table })
    expect(compiled.sql).toBe(`("we""ird" = 'a'::text)`)
    expect(compiled.matches({ 'we"ird': 'a' })).toBe(true)
  })
})
