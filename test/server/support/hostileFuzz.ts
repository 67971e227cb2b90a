/**
 * A seeded, token-level fuzz of shape definitions against the in-process handler (issue #11's hostile inputs): valid
 * where clauses and params mutated with unbalanced quotes and parens, dollar quoting, E'' and U&'' escapes, comments,
 * odd casts, deep nesting, huge numbers, `$0`/`$99999`, NUL and lone surrogates; table names with schema tricks,
 * `columns`, `replica`/`log` garbage, subset params by GET and POST (non-object, deep and huge JSON bodies).
 *
 * Invariants:
 * - Deterministic: the cases are a pure function of the seed (`seededRandom`), so a failure names its case
 *   (`#<index>`) and reproduces; a seed that found a defect stays in the seed list, and the request itself becomes a
 *   named entry of hostileCorpus.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../../src/server/handler'
import type { ShapeHandler } from '../../../src/server/handler'
import type { MemorySource } from '../../../src/server/sources/memory'
import { INTERNAL_TEXT } from './hostileCorpus'
import type { HostileSuiteSource } from './hostileSuite'
import { seededRandom, type Random } from '../where/whereGenerator'

const ORIGIN = 'http://fuzz.test'
const pick = <T,>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T
const int = (r: Random, n: number) => Math.floor(r() * n)

const BASE: readonly { where: string; params: string[] }[] = [
  { where: 'id = 1', params: [] },
  { where: 'title = $1', params: ['one'] },
  { where: "n > $1 AND title LIKE 'o%'", params: ['0'] },
  { where: 'price BETWEEN 1.5 AND 10', params: [] },
  { where: 'flag IS TRUE', params: [] },
  { where: "at < '2030-01-01'::timestamptz", params: [] },
  { where: "title IN ('one', 'two')", params: [] },
  { where: "lower(title) = 'one'", params: [] },
  { where: "n::text = '1'", params: [] },
  { where: 'NOT (id <> 2) OR n IS NULL', params: [] },
  { where: 'coalesce(n, 0) + 1 > $2', params: ['x', '1'] },
  { where: 'title ~~ $1 OR price < $2', params: ['%o%', '3.5'] },
  { where: "doc->>'k' = 'v'", params: [] },
  { where: "at > $1::timestamptz - interval '1 day'", params: ['2020-01-01'] },
  { where: 'abs(n - $1) < 2 AND id % 2 = 0', params: ['2'] },
]

const FRAGMENTS: readonly string[] = [
  "'", '"', '(', ')', '((', '))', '$$', '$tag$', '$$ x $$', '$tag$ a $tag$', '$a$', "E'\\x41\\''", "E'\\u0041'", "E'\\\\'",
  "E'\\", "U&'\\0041'", 'U&"ti\\0074le"', "U&'d!0061t' UESCAPE '!'", "U&'\\D800'", '--', '-- x\n', '/*', '*/', '/* /* */ */',
  '/* /* */', '::regclass', '::pg_catalog.text', '::oid', '::xid', '::"char"', '::int4[]', '::tsvector', '::json', '::money',
  '::interval', '::bit(3)', '::uuid', '::name', '::numeric(1000,0)', '::numeric(2,1)', '::text::int8', '::regproc', '::record',
  '::pg_catalog.pg_authid', '::private.secrets', '::varchar(1)', '::char(0)', '$0', '$99999', '$1', '$2', '$3', '$2147483648',
  '$-1', '1e400', '9'.repeat(400), '-9223372036854775808', '9223372036854775808', '0x1F', '1_000', '0b101', '.5e-400', 'NULL', ';',
  '\\', '\u0000', '\ud800', '\udfff', '😀', '\u202e', 'pg_authid', 'private.secrets', 'private.secrets.token',
  '(SELECT token FROM private.secrets)', 'EXISTS (SELECT 1)', 'ARRAY[1,2]', 'ROW(1,2)', 'COLLATE "C"', 'COLLATE "xx"',
  "AT TIME ZONE 'UTC'", ' OR ', ' AND ', ' NOT ', 'IS DISTINCT FROM', '~', '@>', '||', '#', '->', '->>', '#>>', 'current_user',
  'CURRENT_TIMESTAMP', "interval '1 day'", "'infinity'::timestamptz", "'NaN'::numeric", "'-infinity'", "b'101'", "x'1F'", '{', '}',
  '[', ']', '[1]', '[1:2]', ' id ', ' title ', ' n ', ' price ', ' at ', ' doc ', ' flag ', ' xmin ', ' ctid ', ' tableoid ', 'fuzz.id',
  'public.x.id', '*', 'count(*)', 'sum(n)', 'n OVER ()', 'FILTER (WHERE true)', 'random()', 'now()', 'pg_sleep(1)', "current_setting('x')",
  'lower(', 'CASE WHEN', 'CASE WHEN true THEN 1 END', 'END', 'IN ()', 'IN (SELECT 1)', 'ANY($1)', 'ANY(ARRAY[1])', 'SIMILAR TO',
  'LIKE', "ESCAPE ''", "ESCAPE 'ab'", 'ILIKE', 'BETWEEN SYMMETRIC', 'IS NOT NULL', 'OPERATOR(pg_catalog.=)', 'OPERATOR(private.=)',
  '=', '<>', '!=', '<=', '%', '^', '|/', '@', "'\u0000'", `'${'a'.repeat(5000)}'`, "''''", '""""', '"id"', '"ID"', '"title""',
]

const DEEP_OPENERS: readonly ((d: number) => string)[] = [
  (d) => `${'('.repeat(d)}id = 1${')'.repeat(d)}`,
  (d) => `${'NOT '.repeat(d)}flag`,
  (d) => `${'-'.repeat(d)}n > 0`,
  (d) => `${'- '.repeat(d)}n > 0`,
  (d) => `n${' + 1'.repeat(d)} > 0`,
  (d) => `${'lower('.repeat(d)}title${')'.repeat(d)} = 'a'`,
  (d) => `${'coalesce('.repeat(d)}n${', 1)'.repeat(d)} > 0`,
  (d) => `${'abs('.repeat(d)}n${')'.repeat(d)} > 0`,
  (d) => `flag${' = true'.repeat(d)}`,
  (d) => `${Array.from({ length: d }, (_, i) => `id = ${i}`).join(' OR ')}`,
  (d) => `${'(id = 1 AND '.repeat(d)}true${')'.repeat(d)}`,
  (d) => `${'(id = 1 OR '.repeat(d)}true${')'.repeat(d)}`,
  (d) => `n${'::int4'.repeat(d)} > 0`,
  (d) => `title${' || title'.repeat(d)} = 'a'`,
  (d) => `${'CASE WHEN flag THEN '.repeat(d)}true${' ELSE false END'.repeat(d)}`,
  (d) => `doc${"->'a'".repeat(d)} IS NULL`,
  (d) => `${'ARRAY['.repeat(d)}1${']'.repeat(d)} IS NULL`,
  (d) => `${'(n IS NULL) IS '.repeat(d)}TRUE`,
  (d) => `title${" COLLATE \"C\"".repeat(d)} = 'a'`,
]

const PARAM_VALUES: readonly string[] = [
  '', '1', '-1', '0', 'one', '1e400', '9'.repeat(400), 'NaN', 'Infinity', '-0', ' 1 ', '0x10', 'a\u0000b', '\ud800', 'x\udfffy',
  "'); DROP TABLE x; --", '$$', 'true', 'null', '2020-13-45', 'infinity', '1'.repeat(70_000), '😀', '{1,2}', '{"k":"v"}', '\\',
]

function mutateText(r: Random, text: string): string {
  let out = text
  const steps = 1 + int(r, 3)
  for (let s = 0; s < steps; s++) {
    const at = int(r, out.length + 1)
    const k = r()
    if (k < 0.55) out = out.slice(0, at) + pick(r, FRAGMENTS) + out.slice(at)
    else if (k < 0.7) out = out.slice(0, at) + out.slice(at + 1 + int(r, 6))
    else if (k < 0.78) out = out.slice(0, at) + out.slice(at, at + 1 + int(r, 8)).repeat(2 + int(r, 3)) + out.slice(at)
    else if (k < 0.86) out = `(${out}) ${pick(r, ['AND', 'OR', '=', '||', 'IS', '::'])} ${pick(r, FRAGMENTS)}`
    else out = pick(r, FRAGMENTS) + out + pick(r, FRAGMENTS)
  }
  return out
}

const ODD_LITERALS = [
  "'294277-01-01'", "'5874898-01-01'::date", "'4714-11-23 BC'::timestamptz", "'infinity'", "'NaN'", "1e400", "1e-400", "'1e400'::numeric",
  "9223372036854775808", "-9223372036854775808", "2147483648", "32768::int2", "E'\\x00'", "U&'\\0000'", "E'\\0'", "''", "NULL",
  "'Infinity'::float8", "'-0'::float8", "1/0", "'2024-02-30'", "'24:00:00'", "'{'", "'{a'", "'[1,2'", "'\\'", "$1", "$2", "$1::int8",
  "$1::numeric", "$1::timestamptz", "$1::bool", "$1::jsonb", "'x'::int4", "(-2147483648)::int4", "-(-9223372036854775808)",
]
const ODD_COLUMN_CASTS = ['::int2', '::int4', '::int8', '::numeric(1,0)', '::float4', '::text', '::varchar(1)', '::bool', '::date', '::timestamptz', '::jsonb', '::uuid', '::int4[]']

function semanticMutate(r: Random, where: string): string {
  const parts = where.split(/('(?:[^']|'')*'|\$\d+|\b\d+(?:\.\d+)?\b|\b(?:id|title|n|price|flag|at|doc|tags)\b)/)
  return parts
    .map((part) => {
      if (/^('|\$|\d)/.test(part) && r() < 0.6) return pick(r, ODD_LITERALS)
      if (/^(id|title|n|price|flag|at|doc|tags)$/.test(part) && r() < 0.3) return `${part}${pick(r, ODD_COLUMN_CASTS)}`
      return part
    })
    .join('')
}

function whereCase(r: Random): { where: string; params: string[] } {
  const k = r()
  if (k > 0.55) {
    const base = pick(r, BASE)
    const params = [...base.params]
    if (r() < 0.5) params[int(r, 3)] = pick(r, PARAM_VALUES)
    return { where: semanticMutate(r, base.where), params: Array.from(params, (v) => v ?? '') }
  }
  if (k < 0.12) {
    const depths = [10, 100, 500, 1_000, 2_000, 5_000, 20_000]
    return { where: pick(r, DEEP_OPENERS)(pick(r, depths)), params: [] }
  }
  const base = pick(r, BASE)
  const where = k < 0.2 ? base.where : mutateText(r, base.where)
  const params = [...base.params]
  if (r() < 0.4) {
    const n = int(r, 4)
    for (let i = 0; i < n; i++) {
      const index = int(r, Math.max(1, params.length + 1))
      params[index] = pick(r, PARAM_VALUES)
    }
  }
  return { where, params }
}

const TABLE_TRICKS = (t: string): string[] => [
  t, `public.${t}`, `"public"."${t}"`, `PUBLIC.${t}`, `public . ${t}`, `"public.${t}"`, `pg_temp.${t}`, `pg_catalog.${t}`,
  `${t}.`, `.${t}`, `"${t}"""`, `U&"${t}"`, `public."${t}"`, `private.secrets`, `"pg_catalog".pg_authid`, ` ${t}`, `${t} `,
  t.toUpperCase(), `"${t.toUpperCase()}"`, 'pg_toast.x', 'pg_temp_1.x', `"${t}`, `${t}"`, `"public"${t}`, `public.."${t}"`, `"pub""lic".${t}`,
  `information_schema.${t}`, `${t}\u0000`, `${t}\ud800`, '"', '"".""', `${t}[1]`, `${t}::regclass`, `ONLY ${t}`, `${t}*`, `LATERAL ${t}`,
]
const COLUMNS = [
  'id,id', '"id",title', 'id,"title""', 'id, title', 'ID,title', '"ID"', 'id,"ti""tle"', 'id,', ',id', 'id,,title', 'id,"title',
  'id,title,title', 'id,"xmin"', 'id,ctid', 'id,😀', 'id,"\u0000"', 'id,"\ud800"', 'id,doc->>k', 'id,lower(title)', 'id,*',
  'id,"id"', 'id title', 'id;title', `id,${'x'.repeat(5000)}`, Array(3000).fill('id').join(','), 'id,"tItLe"', 'id,U&"title"',
]
const ENUM_GARBAGE = ['FULL', 'full ', ' full', '', 'default\u0000', 'changes_only,full', 'Full', 'DEFAULT', 'null', '1', 'true', '\ud800', 'x'.repeat(3000)]
const ORDER_BY = [
  'id', 'id DESC NULLS LAST', 'title COLLATE "C"', '1', 'id USING <', 'random()', '(SELECT 1)', 'id,', ',id', 'id ASC DESC', 'title::int4',
  'lower(title)', 'doc', 'doc->>\'k\'', 'xmin', 'n + 1', 'id; DROP TABLE x', 'id -- c', 'id /* c', '"id"', '"ID"', 'price NULLS FIRST',
  `${'('.repeat(3000)}id${')'.repeat(3000)}`, 'id COLLATE "nope"', '$1', 'id DESC, title ASC', 'flag', 'at', 'tags',
]
const INT_GARBAGE = ['1', '0', '-1', '1.5', '1e3', ' 2', '2 ', '+3', '0x10', '9'.repeat(30), 'NaN', '', 'null', '1\u0000', '٣']

type Built = { label: string; request: Request }

function buildShapeQuery(r: Random, table: string): [string, string][] {
  const pairs: [string, string][] = []
  pairs.push(['table', r() < 0.85 ? table : pick(r, TABLE_TRICKS(table))])
  pairs.push(['offset', r() < 0.92 ? '-1' : pick(r, ['now', '0_0', '-2', '0_inf', '1_-1', '-1_0', `${'9'.repeat(30)}_0`])])
  if (r() < 0.8) {
    const w = whereCase(r)
    pairs.push(['where', w.where])
    if (r() < 0.1) {
      pairs.push([pick(r, ['params[0]', 'params[99999]', 'params[1][2]', 'params[]', 'params[ 1]', 'params[01]', 'params[1e0]', 'params']), pick(r, PARAM_VALUES)])
      w.params.forEach((v, i) => pairs.push([`params[${i + 1}]`, v ?? '']))
    } else {
      w.params.forEach((v, i) => pairs.push([`params[${i + 1}]`, v ?? '']))
    }
  }
  if (r() < 0.15) pairs.push(['columns', r() < 0.3 ? 'id,title,n' : pick(r, COLUMNS)])
  if (r() < 0.1) pairs.push(['replica', pick(r, ENUM_GARBAGE)])
  if (r() < 0.1) pairs.push(['log', pick(r, ENUM_GARBAGE)])
  return pairs
}

function subsetFields(r: Random): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  if (r() < 0.7) {
    const w = whereCase(r)
    fields['where'] = w.where
    if (w.params.length > 0) fields['params'] = Object.fromEntries(w.params.map((v, i) => [String(i + 1), v ?? '']))
  }
  if (r() < 0.5) fields['order_by'] = r() < 0.3 ? 'id' : r() < 0.5 ? mutateText(r, pick(r, ORDER_BY)) : pick(r, ORDER_BY)
  if (r() < 0.4) fields['limit'] = pick(r, INT_GARBAGE)
  if (r() < 0.3) fields['offset'] = pick(r, INT_GARBAGE)
  if (r() < 0.1) fields['params'] = pick(r, ['{', '[1]', '{"0":"a"}', '{"1":{"a":1}}', '{"1":[1]}', '"x"', '{"1":"a","3":"c"}', '{"99999":"a"}', '{"__proto__":{"1":"a"}}', '{"1":1e400}', '{"1":"\\ud800"}'])
  return fields
}

function jsonBody(r: Random): string {
  const k = r()
  if (k < 0.08) return pick(r, ['null', '1', '"x"', 'true', '[]', '[{}]', '', ' ', '{', '}', '{"where":}', 'NaN', '\ufeff{}', '{"where":"id = 1",}'])
  if (k < 0.12) {
    const d = pick(r, [100, 10_000, 200_000])
    return `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`
  }
  if (k < 0.15) return `{"where":${'['.repeat(50_000)}${']'.repeat(50_000)}}`
  if (k < 0.18) return JSON.stringify({ where: 'id = 1', pad: 'x'.repeat(pick(r, [900_000, 1_100_000])) })
  if (k < 0.2) return JSON.stringify({ where: `id IN (${Array.from({ length: pick(r, [999, 1001, 20_000]) }, (_, i) => i).join(',')})` })
  const fields: Record<string, unknown> = subsetFields(r)
  if (r() < 0.15) fields['limit'] = pick(r, [1.5, -0, 1e400, true, [], {}, 1e21, 2 ** 53, Number.MAX_SAFE_INTEGER])
  if (r() < 0.1) fields['params'] = pick(r, [[1, 2], { 1: true }, { 1: 1e400 }, { 1: null }, 'x', 5, { 1: '\ud800' }, { 1: 'a\u0000' }])
  if (r() < 0.1) fields['where'] = pick(r, [1, true, null, ['id = 1'], { sql: 'x' }])
  let text = JSON.stringify(fields)
  // raw escapes JSON.stringify would not write
  if (r() < 0.1) text = text.replace(/"where":"/, pick(r, ['"where":"\\ud800', '"where":"\\u0000', '"where":"\\udfff\\ud800', '"where":"\\"']))
  return text
}

export function buildCase(r: Random, table: string, i: number): Built {
  const pairs = buildShapeQuery(r, table)
  const k = r()
  if (k < 0.55) {
    return { label: `#${i} GET ${JSON.stringify(pairs).slice(0, 300)}`, request: new Request(`${ORIGIN}/v1/shape?${new URLSearchParams(pairs)}`) }
  }
  if (k < 0.75) {
    const fields = subsetFields(r)
    for (const [name, value] of Object.entries(fields)) pairs.push([`subset__${name}`, typeof value === 'string' ? value : JSON.stringify(value)])
    if (Object.keys(fields).length === 0) pairs.push(['subset__where', ''])
    return { label: `#${i} GET subset ${JSON.stringify(pairs).slice(0, 300)}`, request: new Request(`${ORIGIN}/v1/shape?${new URLSearchParams(pairs)}`) }
  }
  const body = jsonBody(r)
  const headers: Record<string, string> = r() < 0.5 ? { 'content-type': 'application/json' } : {}
  return {
    label: `#${i} POST ${JSON.stringify(pairs).slice(0, 200)} body ${JSON.stringify(body.slice(0, 200))}`,
    request: new Request(`${ORIGIN}/v1/shape?${new URLSearchParams(pairs)}`, { method: 'POST', body, headers }),
  }
}

const ALLOWED = new Set([200, 204, 304, 400, 404, 409, 413, 429])
const PER_REQUEST_MS = 10_000

/** What is wrong with one answer, or undefined when it passes every check. */
async function judge(handler: ShapeHandler, built: Built): Promise<string | undefined> {
  let timer: NodeJS.Timeout | number | undefined
  const answer = handler(built.request).then(async (response) => ({
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    text: await response.text(),
  }))
  const outcome = await Promise.race([answer, new Promise<undefined>((resolve) => (timer = setTimeout(resolve, PER_REQUEST_MS)))])
  clearTimeout(timer)
  if (outcome === undefined) return `no answer within ${PER_REQUEST_MS} ms: ${built.label}`
  // A 503 is owed only to real resource pressure, which a sequential run never creates.
  if (!ALLOWED.has(outcome.status)) return `status ${outcome.status}: ${built.label}: ${outcome.text.slice(0, 300)}`
  if (INTERNAL_TEXT.test(outcome.text)) return `internal text: ${built.label}: ${outcome.text.slice(0, 300)}`
  return undefined
}

/**
 * Runs `cases` generated requests per seed against one source: every answer is one the protocol allows for a client
 * error (never a 5xx, never internal text or another table's rows), within a time bound, nothing reaches `onError`,
 * and a valid request is still served after every hundred.
 */
export function runHostileFuzz(name: string, setUp: () => Promise<HostileSuiteSource>, run: { seeds: readonly number[]; cases: number }): void {
  describe(name, () => {
    let source: HostileSuiteSource
    let handler: ShapeHandler
    let table = ''
    const reported: unknown[] = []

    beforeAll(async () => {
      source = await setUp()
      const { fixture, sql } = source
      table = await fixture.createTable({
        name: 'fuzz_items',
        columns: [
          { name: 'id', type: 'int8', primaryKey: true },
          { name: 'title', type: 'text' },
          { name: 'n', type: 'int4' },
          { name: 'price', type: 'numeric' },
          { name: 'flag', type: 'bool' },
          { name: 'at', type: 'timestamptz' },
          { name: 'doc', type: 'jsonb' },
          { name: 'tags', type: 'text[]' },
        ],
      })
      await fixture.insert(table, { id: 1, title: 'one', n: 1, price: '2.5', flag: true, at: '2024-01-01T00:00:00Z', doc: '{"k":"v"}', tags: '{a,b}' })
      await fixture.insert(table, { id: 2, title: 'two', n: 0, price: '-1', flag: false, at: '2024-06-01T00:00:00Z', doc: '{"k":1}', tags: '{}' })
      await fixture.insert(table, { id: 3, title: null, n: null, price: null, flag: null, at: null, doc: null, tags: null })
      if (sql !== undefined) {
        await sql('CREATE SCHEMA IF NOT EXISTS private')
        await sql('CREATE TABLE IF NOT EXISTS private.secrets (id int8 PRIMARY KEY, token text)')
        await sql("INSERT INTO private.secrets VALUES (1, 'hunter2') ON CONFLICT DO NOTHING")
      } else {
        const memory = fixture.source as MemorySource
        memory.createTable({ schema: 'private', name: 'secrets', columns: [{ name: 'id', type: 'int8', primaryKey: true }, { name: 'token', type: 'text' }], rows: [{ id: 1, token: 'hunter2' }] })
      }
      handler = createShapeHandler({ source: fixture.source, longPollTimeoutMs: 200, sseTimeoutMs: 500, keepAliveMs: 200, onError: (error) => reported.push(error) })
    }, 120_000)

    afterAll(async () => {
      await handler?.close()
      if (source?.sql !== undefined) await source.sql('DROP SCHEMA IF EXISTS private CASCADE')
      await source?.fixture.close()
    })

    for (const seed of run.seeds) {
      it(`${run.cases} generated requests from seed ${seed}: allowed statuses only, no internal text, still serving`, async () => {
        const random = seededRandom(seed)
        const failures: string[] = []
        for (let index = 0; index < run.cases; index++) {
          const built = buildCase(random, table, index)
          const before = reported.length
          const failure = await judge(handler, built)
          if (failure !== undefined) failures.push(failure)
          if (reported.length > before) failures.push(`onError: ${built.label}: ${String(reported.at(-1))}`)
          if (index % 100 === 99) {
            const probe = await handler(new Request(`${ORIGIN}/v1/shape?table=${table}&offset=-1&where=${encodeURIComponent('id = 1')}`))
            const text = await probe.text()
            if (probe.status !== 200 || !text.includes('"one"')) failures.push(`a valid request after #${index}: ${probe.status} ${text.slice(0, 200)}`)
          }
        }
        expect(failures).toEqual([])
      }, 120_000)
    }
  })
}
