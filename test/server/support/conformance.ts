/**
 * The protocol conformance suite (SHAPE-PROTOCOL.md §8, items 1–29, 35 and 38, plus the request-validation and
 * message-format rules of §1–§3), run against any source through a `SourceFixture`.
 *
 * Each test gets a fresh fixture (unique tables) and its own handler with short timeouts, so held requests end in
 * well under a second; waits are on responses and stream reads, never on sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../../src/server/handler'
import type { ShapeHandler, ShapeHandlerOptions } from '../../../src/server/handler'
import { defineConcurrencyConformance } from './conformanceConcurrency'
import { defineLiveConformance } from './conformanceLive'
import { defineSchemaChangeConformance } from './conformanceSchemaChange'
import { defineSubsetConformance } from './conformanceSubset'
import { defineWhereConformance } from './conformanceWhere'
import type { SourceFixture } from './fixture'
import { call, changesOf, initialSync, liveUntil, shapeUrl } from './shapeHttp'

/** What a conformance test file works with. */
export interface ConformanceContext {
  fixture: SourceFixture
  /** A handler on the fixture's source with short timeouts; closed after the test. */
  handler(options?: Partial<ShapeHandlerOptions>): ShapeHandler
  /** A fresh `items (id int4 pk, title text, n int4)` table. */
  itemsTable(options?: { replicaFull?: boolean }): Promise<string>
}

export const SHORT_TIMEOUTS = { longPollTimeoutMs: 500, sseTimeoutMs: 2_000, keepAliveMs: 1_000 } as const

/**
 * Registers the suite as `describe(name)`; `makeFixture` is called once per test. `schemaChanges`: the fixture has
 * `alterTable`, so the schema-change cases run too.
 */
export function runConformanceSuite(
  name: string,
  makeFixture: () => Promise<SourceFixture>,
  options: { schemaChanges?: boolean } = {},
): void {
  describe(name, () => {
    const handlers: ShapeHandler[] = []
    const context = {} as ConformanceContext
    beforeEach(async () => {
      context.fixture = await makeFixture()
      context.handler = (options = {}) => {
        const handler = createShapeHandler({ source: context.fixture.source, ...SHORT_TIMEOUTS, ...options })
        handlers.push(handler)
        return handler
      }
      context.itemsTable = (options = {}) =>
        context.fixture.createTable({
          name: 'items',
          columns: [
            { name: 'id', type: 'int4', primaryKey: true },
            { name: 'title', type: 'text' },
            { name: 'n', type: 'int4' },
          ],
          ...(options.replicaFull ? { replicaFull: true } : {}),
        })
    })
    afterEach(async () => {
      for (const handler of handlers.splice(0)) await handler.close()
      await context.fixture.close()
    })

    defineSnapshotConformance(context)
    defineValidationConformance(context)
    defineLiveConformance(context)
    defineWhereConformance(context)
    defineSubsetConformance(context)
    defineConcurrencyConformance(context)
    if (options.schemaChanges === true) defineSchemaChangeConformance(context)
  })
}

function defineSnapshotConformance(ctx: ConformanceContext): void {
  describe('initial sync', () => {
    it('§8.1/§8.4 serves the snapshot with snapshot-end, no up-to-date, the long cache and a -1 etag', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a/b', n: null })
      await ctx.fixture.insert(table, { id: 2, title: 'two', n: 5 })
      const response = await call(ctx.handler(), shapeUrl({ table, offset: '-1' }))
      expect(response.status).toBe(200)
      const handle = response.headers.get('electric-handle') as string
      expect(handle).toMatch(/^\d+-\d+$/)
      expect(response.headers.get('electric-offset')).toBe('0_0')
      expect(response.headers.get('electric-has-data')).toBe('true')
      expect(response.headers.get('cache-control')).toBe('public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
      expect(response.headers.get('etag')).toBe(`"${handle}:-1:0_0"`)
      expect(response.headers.has('electric-up-to-date')).toBe(false)
      expect(response.headers.has('electric-cursor')).toBe(false)
      expect(response.headers.get('electric-server')).toMatch(/^ElectricSQL\//)
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(JSON.parse(response.headers.get('electric-schema') as string)).toEqual({
        id: { type: 'int4', pk_index: 0, not_null: true },
        title: { type: 'text' },
        n: { type: 'int4' },
      })
      const body = response.body as any[]
      const rows = body.slice(0, -1).sort((a, b) => a.key.localeCompare(b.key))
      expect(rows).toEqual([
        { key: `"public"."${table}"/"1"`, value: { id: '1', title: 'a/b', n: null }, headers: { operation: 'insert', relation: ['public', table] } },
        { key: `"public"."${table}"/"2"`, value: { id: '2', title: 'two', n: '5' }, headers: { operation: 'insert', relation: ['public', table] } },
      ])
      const end = body.at(-1)
      expect(Object.keys(end.headers).sort()).toEqual(['control', 'xip_list', 'xmax', 'xmin'])
      expect(end.headers.control).toBe('snapshot-end')
      expect(end.headers.xmin).toMatch(/^\d+$/)
      expect(end.headers.xmax).toMatch(/^\d+$/)
      for (const xid of end.headers.xip_list) expect(xid).toMatch(/^\d+$/)
      expect(body.some((message) => message.headers.control === 'up-to-date')).toBe(false)
    })

    it('§8.2 an empty table answers only snapshot-end', async () => {
      const table = await ctx.itemsTable()
      const response = await call(ctx.handler(), shapeUrl({ table, offset: '-1' }))
      expect(response.body).toHaveLength(1)
      expect(response.body[0].headers.control).toBe('snapshot-end')
    })

    it('§8.3 the follow-up request reaches the log end with up-to-date and the non-live cache', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const first = await call(handler, shapeUrl({ table, offset: '-1' }))
      const handle = first.headers.get('electric-handle') as string
      const next = await call(handler, shapeUrl({ table, offset: '0_0', handle }))
      expect(next.status).toBe(200)
      expect(next.headers.get('electric-offset')).toBe('0_inf')
      expect(next.headers.get('electric-up-to-date')).toBe('')
      expect(next.headers.get('electric-handle')).toBe(handle)
      expect(next.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=300')
      expect(next.headers.has('electric-schema')).toBe(true)
      expect(next.body).toHaveLength(1)
      expect(next.body[0]).toEqual({ headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } })
    })

    it('chunks the snapshot by the byte threshold at virtual offsets 0_0, 0_1, … then reaches the log', async () => {
      const table = await ctx.itemsTable()
      for (const id of [1, 2, 3]) await ctx.fixture.insert(table, { id, title: `row ${id}`, n: id })
      const { responses, messages } = await initialSync(ctx.handler({ chunkBytes: 1 }), { table })
      expect(responses.map((r) => r.headers.get('electric-offset'))).toEqual(['0_0', '0_1', '0_2', '0_inf'])
      expect(responses.map((r) => r.headers.has('electric-up-to-date'))).toEqual([false, false, false, true])
      expect(changesOf(messages).map((m) => m.value?.id).sort()).toEqual(['1', '2', '3'])
      expect(responses[2]?.body.at(-1).headers.control).toBe('snapshot-end')
      expect(responses[0]?.body.some((m: any) => m.headers.control === 'snapshot-end')).toBe(false)
    })

    it('§8.13 offset=-1 ignores any handle', async () => {
      const table = await ctx.itemsTable()
      const response = await call(ctx.handler(), shapeUrl({ table, offset: '-1', handle: 'anything-123' }))
      expect(response.status).toBe(200)
      expect(response.headers.get('electric-handle')).not.toBe('anything-123')
    })

    it('§8.14 offset=now answers [up-to-date] without data, at the shape end', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      const response = await call(ctx.handler(), shapeUrl({ table, offset: 'now' }))
      expect(response.status).toBe(200)
      expect(response.body).toEqual([{ headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } }])
      expect(response.headers.get('electric-has-data')).toBe('false')
      expect(response.headers.get('electric-up-to-date')).toBe('')
      expect(response.headers.get('electric-offset')).toBe('0_inf')
      expect(response.headers.has('electric-schema')).toBe(true)
      expect(response.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=300')
    })

    it('columns projects rows and schema, keeping the primary key; quoted identifiers work', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 't', n: 7 })
      const response = await call(ctx.handler(), shapeUrl({ table: `"public"."${table}"`, columns: '"id","title"', offset: '-1' }))
      expect(response.status).toBe(200)
      expect(response.body[0].value).toEqual({ id: '1', title: 't' })
      expect(Object.keys(JSON.parse(response.headers.get('electric-schema') as string))).toEqual(['id', 'title'])
    })

    it('a mixed-case column: quoted in columns it keeps its case, unquoted it is lower-cased; live changes keep it too', async () => {
      const table = await ctx.fixture.createTable({
        name: 'cased',
        columns: [
          { name: 'id', type: 'int4', primaryKey: true },
          { name: 'Title', type: 'text' },
          { name: 'other', type: 'text' },
        ],
      })
      await ctx.fixture.insert(table, { id: 1, Title: 'one', other: 'x' })
      const handler = ctx.handler()
      const params = { table, columns: '"id","Title"' }
      const { position, messages, responses } = await initialSync(handler, params)
      expect(changesOf(messages).map((message) => message.value)).toEqual([{ id: '1', Title: 'one' }])
      expect(Object.keys(JSON.parse(responses[0]?.headers.get('electric-schema') as string))).toEqual(['id', 'Title'])
      const unquoted = await call(handler, shapeUrl({ table, columns: 'id,Title', offset: '-1' }))
      expect(unquoted.status).toBe(400)
      expect(unquoted.body.errors).toEqual({ columns: ['The following columns are not found on the table: title'] })
      await ctx.fixture.update(table, { id: 1 }, { Title: 'uno' })
      const { changes } = await liveUntil(handler, params, position, (found) => found.length > 0)
      expect(changes.map((change) => change.value)).toEqual([{ id: '1', Title: 'uno' }])
    })

    it('column names outside ASCII (accents, CJK, an emoji) are served: the schema header is ASCII and parses to the row names', async () => {
      const names = ['prénom', '名前', 'note😀']
      const table = await ctx.fixture.createTable({
        name: 'unicode',
        columns: [{ name: 'id', type: 'int4', primaryKey: true }, ...names.map((name) => ({ name, type: 'text' }))],
      })
      await ctx.fixture.insert(table, { id: 1, prénom: 'Zoé', 名前: '花子', 'note😀': 'ok' })
      const handler = ctx.handler()
      const { position, messages, responses } = await initialSync(handler, { table })
      const schema = responses[0]?.headers.get('electric-schema') as string
      expect(schema).toMatch(/^[\x20-\x7e]*$/)
      expect(Object.keys(JSON.parse(schema))).toEqual(['id', ...names])
      expect(changesOf(messages).map((message) => message.value)).toEqual([{ id: '1', prénom: 'Zoé', 名前: '花子', 'note😀': 'ok' }])
      const projected = await call(handler, shapeUrl({ table, columns: 'id,"note😀"', offset: '-1' }))
      expect(projected.status, projected.text).toBe(200)
      expect(Object.keys(JSON.parse(projected.headers.get('electric-schema') as string))).toEqual(['id', 'note😀'])
      await ctx.fixture.update(table, { id: 1 }, { 名前: '太郎' })
      const { changes } = await liveUntil(handler, { table }, position, (found) => found.length > 0)
      expect(changes.map((change) => change.value)).toEqual([{ id: '1', 名前: '太郎' }])
    })

    it('log=changes_only serves no snapshot rows', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 't', n: 7 })
      const response = await call(ctx.handler(), shapeUrl({ table, log: 'changes_only', offset: '-1' }))
      expect(response.body).toHaveLength(1)
      expect(response.body[0].headers.control).toBe('snapshot-end')
    })

    it('§8.24 If-None-Match with the previous etag → 304, empty body, same cache-control', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const first = await call(handler, shapeUrl({ table, offset: '-1' }))
      const etag = first.headers.get('etag') as string
      const again = await call(handler, shapeUrl({ table, offset: '-1' }), { headers: { 'if-none-match': etag } })
      expect(again.status).toBe(304)
      expect(again.text).toBe('')
      expect(again.headers.get('cache-control')).toBe(first.headers.get('cache-control'))
      expect(again.headers.get('etag')).toBe(etag)
    })

    it('shares one handle per definition and a different one per replica', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const a = await call(handler, shapeUrl({ table, offset: '-1' }))
      const b = await call(handler, shapeUrl({ table, offset: '-1', cursor: 'x', unknown: 'y' }))
      const c = await call(handler, shapeUrl({ table, offset: '-1', replica: 'full' }))
      expect(b.headers.get('electric-handle')).toBe(a.headers.get('electric-handle'))
      expect(c.headers.get('electric-handle')).not.toBe(a.headers.get('electric-handle'))
    })

    it('HEAD answers as GET without a body; health, CORS and preflight', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const head = await handler(new Request(shapeUrl({ table, offset: '-1' }), { method: 'HEAD', headers: { origin: 'http://app.test' } }))
      expect(head.status).toBe(200)
      expect(head.headers.get('electric-offset')).toBe('0_0')
      expect(await head.text()).toBe('')
      expect(head.headers.get('access-control-allow-origin')).toBe('http://app.test')
      // Exactly Electric's list: a browser client can read only these, and it needs every electric-* header it checks.
      expect(head.headers.get('access-control-expose-headers')).toBe(
        'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after',
      )
      const health = await call(handler, 'http://conformance.test/v1/health')
      expect(health.status).toBe(200)
      expect(health.body).toEqual({ status: 'active' })
      const preflight = await handler(
        new Request(shapeUrl({ table }), { method: 'OPTIONS', headers: { 'access-control-request-headers': 'if-none-match' } }),
      )
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-max-age')).toBe('86400')
      // DELETE is off unless the handler allows it (allowDelete, or a secret).
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, HEAD, OPTIONS')
      expect(preflight.headers.get('access-control-allow-headers')).toBe('if-none-match')
    })
  })
}

function defineValidationConformance(ctx: ConformanceContext): void {
  const invalid = (errors: Record<string, string[]>) => ({ message: 'Invalid request', errors })
  const cases: { rule: string; params: (table: string) => Record<string, string>; errors: (table: string) => Record<string, string[]> }[] = [
    { rule: '§8.5 offset missing', params: (t) => ({ table: t }), errors: () => ({ offset: ["can't be blank"] }) },
    { rule: '§8.6 offset malformed', params: (t) => ({ table: t, offset: 'abc' }), errors: () => ({ offset: ['has invalid format'] }) },
    { rule: '§8.7 handle missing', params: (t) => ({ table: t, offset: '0_0' }), errors: () => ({ handle: ["can't be blank when offset != -1"] }) },
    { rule: '§8.8 live with -1', params: (t) => ({ table: t, offset: '-1', live: 'true' }), errors: () => ({ live: ["can't be true when offset == -1"] }) },
    { rule: '§8.9 live with now', params: (t) => ({ table: t, offset: 'now', live: '' }), errors: () => ({ live: ["can't be true when offset is 'now'"] }) },
    { rule: '§8.10 live_sse without live', params: (t) => ({ table: t, offset: '0_inf', handle: 'h', live_sse: 'true' }), errors: () => ({ live_sse: ["can't be true unless live is also true"] }) },
    { rule: 'experimental_live_sse is Ecto-cast', params: (t) => ({ table: t, offset: '0_inf', handle: 'h', live: 'true', experimental_live_sse: 'yes' }), errors: () => ({ live_sse: ['is invalid'] }) },
    { rule: '§8.11 unknown table', params: () => ({ table: 'nope_never', offset: '-1' }), errors: () => ({ table: ['Table "public"."nope_never" does not exist. If the table name contains capitals or special characters you must quote it.'] }) },
    { rule: '§8.12 columns without the key', params: (t) => ({ table: t, columns: 'title', offset: '-1' }), errors: () => ({ columns: ['The list of columns must include all primary key columns, missing: id'] }) },
    { rule: 'columns with an empty item', params: (t) => ({ table: t, columns: 'id,', offset: '-1' }), errors: () => ({ columns: ['Invalid zero-length delimited identifier'] }) },
    { rule: 'columns unknown', params: (t) => ({ table: t, columns: 'id,nope', offset: '-1' }), errors: () => ({ columns: ['The following columns are not found on the table: nope'] }) },
    { rule: 'replica invalid', params: (t) => ({ table: t, replica: 'teapot', offset: '-1' }), errors: () => ({ replica: ['is invalid'] }) },
    { rule: 'log invalid', params: (t) => ({ table: t, log: 'some', offset: '-1' }), errors: () => ({ log: ['is invalid'] }) },
    { rule: 'table missing', params: () => ({ offset: '-1' }), errors: () => ({ table: ["can't be blank"] }) },
    { rule: 'params not in bracket form', params: (t) => ({ table: t, params: '{"1":"a"}', offset: '-1' }), errors: () => ({ params: ['is invalid'] }) },
    { rule: 'offset blank', params: (t) => ({ table: t, offset: ' ' }), errors: () => ({ offset: ["can't be blank"] }) },
    {
      rule: 'queryable_columns, an allow-list this server does not enforce',
      params: (t) => ({ table: t, offset: '-1', queryable_columns: 'id,title' }),
      errors: () => ({ queryable_columns: ['is not supported by this server'] }),
    },
  ]
  describe('request validation', () => {
    for (const testCase of cases) {
      it(`${testCase.rule} → 400 with the exact body and no-store`, async () => {
        const table = await ctx.itemsTable()
        const response = await call(ctx.handler(), shapeUrl(testCase.params(table)))
        expect(response.status).toBe(400)
        expect(response.body).toEqual(invalid(testCase.errors(table)))
        expect(response.headers.get('cache-control')).toBe('no-store')
        expect(response.headers.get('surrogate-control')).toBe('no-store')
      })
    }

    it('§8.6 accepts 5_inf syntactically and ignores unknown params', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const response = await call(handler, shapeUrl({ table, offset: '0_inf', handle: position.handle, 'cache-buster': 'x', foo: 'bar' }))
      expect(response.status).toBe(200)
      const far = await call(handler, shapeUrl({ table, offset: '5_inf', handle: position.handle }))
      expect(far.status).not.toBe(500)
      expect(far.body?.errors?.offset).not.toEqual(['has invalid format'])
    })

    it('a param the server reads, given twice → 400 naming it, whichever copy a proxy checked', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'one', n: 1 })
      const handler = ctx.handler()
      const repeats: [string, string][] = [
        [`table=${table}&table=${table}`, 'table'],
        [`table=${table}&where=n%3D%241&params[1]=1&params%5B1%5D=2`, 'params[1]'],
        [`table=${table}&where=n%3D1&where=true`, 'where'],
        [`table=${table}&columns=id&columns=id,title`, 'columns'],
        [`table=${table}&subset__where=n%3D1&subset__where=true`, 'subset__where'],
      ]
      for (const [query, name] of repeats) {
        const response = await call(handler, `${shapeUrl({})}${query}&offset=-1`)
        expect(response.status, query).toBe(400)
        expect(response.body, query).toEqual(invalid({ [name]: ['must be given at most once'] }))
      }
      const once = await call(handler, `${shapeUrl({})}table=${table}&where=n%3D%241&params[1]=1&cursor=1&unknown=a&unknown=b&offset=-1`)
      expect(once.status).toBe(200)
    })

    it('blank columns, params and where count as absent, as Ecto casts them', async () => {
      const table = await ctx.itemsTable()
      await ctx.fixture.insert(table, { id: 1, title: 'one', n: 1 })
      const handler = ctx.handler()
      const plain = await call(handler, shapeUrl({ table, offset: '-1' }))
      const blank = await call(handler, shapeUrl({ table, offset: '-1', columns: '', params: '', where: ' ' }))
      expect(blank.status, blank.text).toBe(200)
      expect(blank.headers.get('electric-handle')).toBe(plain.headers.get('electric-handle'))
      expect(blank.body[0].value).toEqual({ id: '1', title: 'one', n: '1' })
    })

    it('§8.21 a stale handle → 409 must-refetch with the current handle and no location', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const response = await call(handler, shapeUrl({ table, offset: '0_inf', handle: '123-456' }))
      expect(response.status).toBe(409)
      expect(response.body).toEqual([{ headers: { control: 'must-refetch' } }])
      expect(response.headers.get('electric-handle')).toBe(position.handle)
      expect(response.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate')
      expect(response.headers.has('location')).toBe(false)
    })

    it('a live handle sent with another definition → 400, before and after it was used with its own', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const mismatch = { table, where: 'n > 1', offset: position.offset, handle: position.handle }
      for (const round of ['before', 'after']) {
        const response = await call(handler, shapeUrl(mismatch))
        expect(response.status, round).toBe(400)
        expect(response.body).toEqual({
          message:
            'The specified shape definition and handle do not match. Please ensure the shape definition is correct ' +
            'or omit the shape handle from the request to obtain a new one.',
        })
        const own = await call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle }))
        expect(own.status, round).toBe(200)
      }
    })

    it('a handle sent with its definition spelled another way is answered by its shape, byte for byte', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const written = { table, where: 'n > $1', 'params[1]': '1', columns: 'id,n' }
      const { position } = await initialSync(handler, written)
      await ctx.fixture.insert(table, { id: 1, title: 'one', n: 2 })
      await liveUntil(handler, written, position, (changes) => changes.length > 0)
      const respelled = { table, where: ' n>$1 ', 'params[1]': '1', columns: 'n,id' }
      // The source's LSN may move between requests on a shared database; everything else must be equal.
      const answer = async (params: Record<string, string>) => {
        const response = await call(handler, shapeUrl({ ...params, offset: position.offset, handle: position.handle }))
        const text = response.text.replace(/"global_last_seen_lsn":"\d+"/, '"global_last_seen_lsn":"?"')
        return { status: response.status, headers: [...response.headers], text }
      }
      const reference = await answer(written)
      expect(reference.status).toBe(200)
      expect(reference.text).toContain('"value":{"id":"1","n":"2"}')
      for (const params of [respelled, written, respelled]) expect(await answer(params)).toEqual(reference)
    })

    it('DELETE drops the shape: its handle then gets 409 and a new handle', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ allowDelete: true })
      const { position } = await initialSync(handler, { table })
      const deleted = await handler(new Request(shapeUrl({ table, handle: position.handle }), { method: 'DELETE' }))
      expect(deleted.status).toBe(202)
      const after = await call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle }))
      expect(after.status).toBe(409)
      expect(after.headers.get('electric-handle')).not.toBe(position.handle)
      const missing = await handler(new Request(shapeUrl({ table, handle: position.handle }), { method: 'DELETE' }))
      expect(missing.status).toBe(404)
    })

    it('§8.35 an offset past the log end is held about half the timeout, then 400 out of bounds', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const started = performance.now()
      const response = await call(handler, shapeUrl({ table, offset: '999999999999_0', handle: position.handle, live: 'true' }))
      expect(performance.now() - started).toBeGreaterThanOrEqual(SHORT_TIMEOUTS.longPollTimeoutMs / 2 - 20)
      expect(response.status).toBe(400)
      expect(response.body).toEqual(invalid({ offset: ['out of bounds for this shape'] }))
    })
  })
}
