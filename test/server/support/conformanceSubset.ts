/**
 * Subset snapshots (SHAPE-PROTOCOL.md §1.3, §3.6, checklist item 38) on any source: the GET and POST forms, their
 * refusals, the rows they select and the metadata that lets a client merge them with the shape's live changes.
 */
import { describe, expect, it } from 'vitest'
import type { ConformanceContext } from './conformance'
import { call, changesOf, initialSync, liveUntil, shapeUrl } from './shapeHttp'
import type { Handler, ShapeResponse } from './shapeHttp'

type Item = { id: number; title: string | null; n: number | null }

/** `n` values whose text order (-1, -2, 10, 5, 9) differs from their value order, so a text sort is caught. */
const ITEMS: readonly Item[] = [
  { id: 1, title: 'delta', n: 9 },
  { id: 2, title: 'alpha', n: null },
  { id: 3, title: 'echo', n: -1 },
  { id: 4, title: 'bravo', n: 10 },
  { id: 5, title: null, n: -2 },
  { id: 6, title: 'charlie', n: null },
  { id: 7, title: 'foxtrot', n: 5 },
]

/** PostgreSQL's order of two nullable values for one term (NULLS LAST for ASC and FIRST for DESC by default). */
function compareTerm<T extends string | number>(a: T | null, b: T | null, direction: 'asc' | 'desc', nulls?: 'first' | 'last'): number {
  const nullsFirst = (nulls ?? (direction === 'asc' ? 'last' : 'first')) === 'first'
  if (a === null || b === null) return a === b ? 0 : (a === null) === nullsFirst ? -1 : 1
  const order = a < b ? -1 : a > b ? 1 : 0
  return direction === 'asc' ? order : -order
}

const ids = (response: ShapeResponse): number[] => (response.body.data as { value: { id: string } }[]).map((m) => Number(m.value.id))

/** Postgres visibility of `xid` in a snapshot's metadata, as the client computes it. */
function visibleIn(metadata: { xmin: string; xmax: string; xip_list: string[] }, xid: number): boolean {
  const id = BigInt(xid)
  return id < BigInt(metadata.xmin) || (id < BigInt(metadata.xmax) && !metadata.xip_list.map(BigInt).includes(id))
}

export function defineSubsetConformance(ctx: ConformanceContext): void {
  const invalidSubset = (errors: Record<string, string[]>) => ({ message: 'Invalid request', errors: { subset: errors } })

  const seeded = async (): Promise<{ table: string; handler: Handler; handle: string; offset: string }> => {
    const table = await ctx.itemsTable()
    for (const item of ITEMS) await ctx.fixture.insert(table, item)
    const handler = ctx.handler()
    const { position } = await initialSync(handler, { table })
    return { table, handler, handle: position.handle, offset: position.offset }
  }

  describe('subset snapshots', () => {
    it('§8.38 limit without order_by → 400 naming subset.order_by', async () => {
      const { table, handler, handle, offset } = await seeded()
      const response = await call(handler, shapeUrl({ table, offset, handle, subset__where: 'n > 1', subset__limit: '10' }))
      expect(response.status).toBe(400)
      expect(response.body).toEqual(invalidSubset({ order_by: ['order_by is required when limit or offset is present'] }))
      expect(response.headers.get('cache-control')).toBe('no-store')
      const withOffset = await call(handler, shapeUrl({ table, offset, handle, subset__offset: '0' }))
      expect(withOffset.body).toEqual(invalidSubset({ order_by: ['order_by is required when limit or offset is present'] }))
    })

    it('§8.38 answers {metadata, data} with electric-snapshot, no-cache, the shape handle, the request offset and the schema', async () => {
      const { table, handler, handle, offset } = await seeded()
      const response = await call(
        handler,
        shapeUrl({ table, offset, handle, subset__where: 'n > 1', subset__limit: '10', subset__order_by: 'id' }),
        { headers: { origin: 'http://app.test' } },
      )
      expect(response.status, response.text).toBe(200)
      expect(response.headers.get('electric-snapshot')).toBe('true')
      expect(response.headers.get('cache-control')).toBe('no-cache')
      expect(response.headers.get('electric-handle')).toBe(handle)
      expect(response.headers.get('electric-offset')).toBe(offset)
      expect(response.headers.get('access-control-allow-origin')).toBe('http://app.test')
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(response.headers.has('etag')).toBe(false)
      expect(response.headers.has('electric-up-to-date')).toBe(false)
      expect(JSON.parse(response.headers.get('electric-schema') as string)).toEqual({
        id: { type: 'int4', pk_index: 0, not_null: true },
        title: { type: 'text' },
        n: { type: 'int4' },
      })
      const { metadata, data } = response.body
      expect(Object.keys(response.body).sort()).toEqual(['data', 'metadata'])
      expect(Object.keys(metadata).sort()).toEqual(['database_lsn', 'snapshot_mark', 'xip_list', 'xmax', 'xmin'])
      for (const xid of [metadata.xmin, metadata.xmax, ...metadata.xip_list, metadata.database_lsn]) expect(xid).toMatch(/^\d+$/)
      expect(BigInt(metadata.xmin) <= BigInt(metadata.xmax)).toBe(true)
      expect(Number.isInteger(metadata.snapshot_mark) && metadata.snapshot_mark >= 0 && metadata.snapshot_mark < 2 ** 31).toBe(true)
      const expected = ITEMS.filter((item) => item.n !== null && item.n > 1).sort((a, b) => a.id - b.id)
      expect(data).toEqual(
        expected.map((item) => ({
          key: `"public"."${table}"/"${item.id}"`,
          value: { id: String(item.id), title: item.title, n: String(item.n) },
          headers: { operation: 'insert', relation: ['public', table], snapshot_mark: metadata.snapshot_mark },
        })),
      )
    })

    it('snapshot_mark comes from the handler random, fresh per request', async () => {
      const table = await ctx.itemsTable()
      const draws = [0, 0.5, 0.999999999]
      const handler = ctx.handler({ random: () => draws.shift() ?? 0.25 })
      const marks: number[] = []
      for (let round = 0; round < 3; round++) {
        const response = await call(handler, shapeUrl({ table, offset: '-1', subset__where: 'id > 0' }))
        marks.push(response.body.metadata.snapshot_mark)
      }
      expect(marks).toEqual([0, 2 ** 30, Math.floor(0.999999999 * 2 ** 31)])
    })

    for (const { order, sort } of [
      { order: 'title', sort: (a: Item, b: Item) => compareTerm(a.title, b.title, 'asc') },
      { order: 'title DESC', sort: (a: Item, b: Item) => compareTerm(a.title, b.title, 'desc') },
      { order: 'n DESC, id', sort: (a: Item, b: Item) => compareTerm(a.n, b.n, 'desc') || a.id - b.id },
      { order: '"n" ASC NULLS FIRST, "id" DESC', sort: (a: Item, b: Item) => compareTerm(a.n, b.n, 'asc', 'first') || b.id - a.id },
      { order: 'N NULLS LAST, ID', sort: (a: Item, b: Item) => compareTerm(a.n, b.n, 'asc', 'last') || a.id - b.id },
    ]) {
      it(`orders by ${order}, then offsets and limits`, async () => {
        const { table, handler, handle, offset } = await seeded()
        const sorted = [...ITEMS].sort(sort).map((item) => item.id)
        const all = await call(handler, shapeUrl({ table, offset, handle, subset__order_by: order }))
        expect(all.status, all.text).toBe(200)
        expect(ids(all)).toEqual(sorted)
        const page = await call(handler, shapeUrl({ table, offset, handle, subset__order_by: order, subset__offset: '2', subset__limit: '3' }))
        expect(ids(page)).toEqual(sorted.slice(2, 5))
        const tail = await call(handler, shapeUrl({ table, offset, handle, subset__order_by: order, subset__offset: '5' }))
        expect(ids(tail)).toEqual(sorted.slice(5))
      })
    }

    it('orders numbers by value, not by their text: limit 2 of n gives -2, -1; of n DESC NULLS LAST 10, 9', async () => {
      const { table, handler, handle, offset } = await seeded()
      const ascending = await call(handler, shapeUrl({ table, offset, handle, subset__order_by: 'n', subset__limit: '2' }))
      expect(ascending.status, ascending.text).toBe(200)
      expect(ascending.body.data.map((message: { value: { n: string } }) => message.value.n)).toEqual(['-2', '-1'])
      const descending = await call(handler, shapeUrl({ table, offset, handle, subset__order_by: 'n DESC NULLS LAST', subset__limit: '2' }))
      expect(descending.body.data.map((message: { value: { n: string } }) => message.value.n)).toEqual(['10', '9'])
    })

    it("combines the subset where and its params with the shape's where, params and columns", async () => {
      const table = await ctx.itemsTable()
      for (const item of ITEMS) await ctx.fixture.insert(table, item)
      const handler = ctx.handler()
      const shape = { table, where: 'n >= $1', 'params[1]': '-1', columns: 'id,n' }
      const { position } = await initialSync(handler, shape)
      const response = await call(
        handler,
        shapeUrl({
          ...shape,
          offset: position.offset,
          handle: position.handle,
          subset__where: 'title <> $1 AND n < $2',
          subset__params: JSON.stringify({ 1: 'delta', 2: '10' }),
          subset__order_by: 'n',
        }),
      )
      expect(response.status, response.text).toBe(200)
      const expected = ITEMS.filter((item) => item.n !== null && item.n >= -1 && item.title !== null && item.title !== 'delta' && item.n < 10)
        .sort((a, b) => (a.n as number) - (b.n as number))
      expect(response.body.data.map((message: { value: unknown }) => message.value)).toEqual(
        expected.map((item) => ({ id: String(item.id), n: String(item.n) })),
      )
      expect(response.headers.get('electric-handle')).toBe(position.handle)
    })

    it('POST takes the subset as a JSON body and answers as the GET form', async () => {
      const { table, handler, handle, offset } = await seeded()
      const get = await call(
        handler,
        shapeUrl({ table, offset, handle, subset__where: 'n > $1', subset__params: '{"1":"1"}', subset__order_by: 'n DESC', subset__limit: '2', subset__offset: '1' }),
      )
      const post = await call(handler, shapeUrl({ table, offset, handle }), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ where: 'n > $1', params: { 1: 1 }, order_by: 'n DESC', limit: 2, offset: 1, where_expr: { ignored: true } }),
      })
      expect(post.status, post.text).toBe(200)
      expect(post.headers.get('cache-control')).toBe('no-cache')
      expect(post.headers.get('electric-snapshot')).toBe('true')
      expect(post.headers.get('electric-offset')).toBe(offset)
      expect(ids(post)).toEqual(ids(get))
      const expected = ITEMS.filter((item) => item.n !== null && item.n > 1).sort((a, b) => (b.n as number) - (a.n as number))
      expect(ids(post)).toEqual(expected.slice(1, 3).map((item) => item.id))
      const everything = await call(handler, shapeUrl({ table, offset, handle }), { method: 'POST', body: '' })
      expect(ids(everything).sort((a, b) => a - b)).toEqual(ITEMS.map((item) => item.id))
    })

    it.each([
      { body: '{"where":', error: { error: 'Invalid JSON in request body', details: expect.any(String) } },
      { body: '[{"where":"id > 1"}]', error: { error: 'Request body must be a JSON object' } },
      { body: '"id > 1"', error: { error: 'Request body must be a JSON object' } },
      { body: 'null', error: { error: 'Request body must be a JSON object' } },
    ])('POST with body $body → 400 $error.error', async ({ body, error }) => {
      const table = await ctx.itemsTable()
      const response = await call(ctx.handler(), shapeUrl({ table, offset: '-1' }), { method: 'POST', body })
      expect(response.status).toBe(400)
      expect(response.body).toEqual(error)
      expect(response.headers.get('cache-control')).toBe('no-store')
    })

    it.each([
      { fields: { subset__order_by: 'n + 1' }, errors: { order_by: ['Invalid order_by: only column names, each with an optional ASC or DESC and NULLS FIRST or NULLS LAST, are supported'] } },
      { fields: { subset__order_by: '1' }, errors: { order_by: ['Invalid order_by: only column names, each with an optional ASC or DESC and NULLS FIRST or NULLS LAST, are supported'] } },
      { fields: { subset__order_by: 'n COLLATE "C"' }, errors: { order_by: ['Invalid order_by: only column names, each with an optional ASC or DESC and NULLS FIRST or NULLS LAST, are supported'] } },
      { fields: { subset__order_by: 'id; DROP TABLE x' }, errors: { order_by: ['Invalid order_by: it must be a list of sort terms (no statements or clauses after it)'] } },
      { fields: { subset__order_by: 'id LIMIT 1' }, errors: { order_by: ['Invalid order_by: it must be a list of sort terms (no statements or clauses after it)'] } },
      { fields: { subset__order_by: 'nope' }, errors: { order_by: ['Invalid order_by: column "nope" does not exist'] } },
      { fields: { subset__order_by: 'id DESC,' }, errors: { order_by: [expect.stringMatching(/^Invalid order_by: syntax error at end of input/)] } },
      { fields: { subset__limit: '0', subset__order_by: 'id' }, errors: { limit: ['must be greater than 0'] } },
      { fields: { subset__limit: '1.5', subset__offset: '-1', subset__order_by: 'id' }, errors: { limit: ['is invalid'], offset: ['must be greater than or equal to 0'] } },
      { fields: { subset__params: '{"1":' }, errors: { params: ['params must be valid JSON'] } },
      { fields: { subset__params: '["a"]' }, errors: { params: ['params must be a JSON object'] } },
      { fields: { subset__where: 'id > $1', subset__params: '{"2":"a"}' }, errors: { params: ['Parameters must be numbered sequentially, starting from 1'] } },
      { fields: { subset__where: 'nope = 1' }, errors: { where: [expect.stringContaining('nope')] } },
    ])('refuses $fields → 400 errors.subset', async ({ fields, errors }) => {
      const { table, handler, handle, offset } = await seeded()
      const response = await call(handler, shapeUrl({ table, offset, handle, ...fields }))
      expect(response.status, response.text).toBe(400)
      expect(response.body).toEqual(invalidSubset(errors as Record<string, string[]>))
      expect(response.headers.get('cache-control')).toBe('no-store')
    })

    it('a subset matching more rows than maxSubsetRows, or longer than maxSubsetBytes → 400 errors.subset.limit; pages within them answer', async () => {
      const table = await ctx.itemsTable()
      for (const item of ITEMS) await ctx.fixture.insert(table, item)
      const handler = ctx.handler({ maxSubsetRows: 3, maxSubsetBytes: 2_000 })
      const { position } = await initialSync(handler, { table })
      const at = { table, offset: position.offset, handle: position.handle }
      const tooMany = invalidSubset({ limit: [expect.stringMatching(/more than 3 rows match.*page with offset/)] })
      const all = await call(handler, shapeUrl({ ...at, subset__where: 'id > 0' }))
      expect(all.status, all.text).toBe(400)
      expect(all.body).toEqual(tooMany)
      const post = await call(handler, shapeUrl(at), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"limit":10,"order_by":"id"}' })
      expect(post.body).toEqual(tooMany)
      const pages: number[] = []
      for (const offset of [0, 3, 6]) {
        const page = await call(handler, shapeUrl({ ...at, subset__order_by: 'id', subset__limit: '3', subset__offset: String(offset) }))
        expect(page.status, page.text).toBe(200)
        pages.push(...ids(page))
      }
      expect(pages).toEqual(ITEMS.map((item) => item.id))
      const narrow = ctx.handler({ maxSubsetBytes: 300 })
      const { position: narrowPosition } = await initialSync(narrow, { table })
      const long = await call(narrow, shapeUrl({ table, offset: narrowPosition.offset, handle: narrowPosition.handle, subset__where: 'id > 0' }))
      expect(long.status, long.text).toBe(400)
      expect(long.body).toEqual(invalidSubset({ limit: [expect.stringMatching(/more than 300 bytes of JSON/)] }))
    })

    it('a where that raises on a row (division by zero) → 400 errors.subset.where, not retried as a server error', async () => {
      const { table, handler, handle, offset } = await seeded()
      // Row 7 has n = 5: PostgreSQL fails the whole query, and the memory source refuses it the same way.
      const response = await call(handler, shapeUrl({ table, offset, handle, subset__where: '100 / (n - 5) > 1' }))
      expect(response.status, response.text).toBe(400)
      expect(response.body).toEqual(invalidSubset({ where: [expect.stringContaining('division by zero')] }))
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.has('retry-after')).toBe(false)
      const fine = await call(handler, shapeUrl({ table, offset, handle, subset__where: 'n <> 5 AND 100 / (n - 5) > 1' }))
      expect(fine.status, fine.text).toBe(200)
    })

    it('refuses the shape as a GET would: unknown table 400, stale handle 409; an offset past the log 400', async () => {
      const { table, handler, handle } = await seeded()
      const unknown = await call(handler, shapeUrl({ table: 'nope_never', offset: '-1', subset__where: 'id > 1' }))
      expect(unknown.status).toBe(400)
      expect(unknown.headers.get('cache-control')).toBe('no-store')
      expect(unknown.body.errors).toHaveProperty('table')
      const stale = await call(handler, shapeUrl({ table, offset: '0_inf', handle: '1-2', subset__where: 'id > 1' }))
      expect(stale.status).toBe(409)
      expect(stale.headers.get('electric-handle')).toBe(handle)
      const far = await call(handler, shapeUrl({ table, offset: '999999999999_0', handle, subset__where: 'id > 1' }))
      expect(far.status).toBe(400)
      expect(far.body).toEqual({ message: 'Invalid request', errors: { offset: ['out of bounds for this shape'] } })
    })

    it('log=changes_only: the shape serves no rows, its subsets do; -1 stays -1 and now is the log end', async () => {
      const table = await ctx.itemsTable()
      for (const item of ITEMS) await ctx.fixture.insert(table, item)
      const handler = ctx.handler()
      const first = await call(handler, shapeUrl({ table, log: 'changes_only', offset: '-1', subset__order_by: 'id', subset__limit: '2' }))
      expect(first.status, first.text).toBe(200)
      expect(first.headers.get('electric-offset')).toBe('-1')
      expect(ids(first)).toEqual([1, 2])
      const { position } = await initialSync(handler, { table, log: 'changes_only' })
      expect(position.handle).toBe(first.headers.get('electric-handle'))
      await ctx.fixture.insert(table, { id: 8, title: 'golf', n: 8 })
      const { position: after } = await liveUntil(handler, { table, log: 'changes_only' }, position, (changes) => changes.length > 0)
      const now = await call(handler, shapeUrl({ table, log: 'changes_only', offset: 'now', subset__where: 'id = 8' }))
      expect(now.headers.get('electric-offset')).toBe(after.offset)
      expect(ids(now)).toEqual([8])
    })

    it('metadata matches the source: a change before the subset is visible in it and below database_lsn, one after is neither', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const params = { table, log: 'changes_only' }
      const { position } = await initialSync(handler, params)
      await ctx.fixture.insert(table, { id: 1, title: 'before', n: 1 })
      const subset = await call(handler, shapeUrl({ ...params, offset: position.offset, handle: position.handle, subset__where: 'id > 0' }))
      expect(ids(subset)).toEqual([1])
      await ctx.fixture.insert(table, { id: 2, title: 'after', n: 2 })
      const { changes } = await liveUntil(handler, params, position, (seen) => seen.length >= 2)
      const [before, after] = changesOf(changes)
      const { metadata } = subset.body
      expect(before?.key).toContain('"1"')
      expect(after?.key).toContain('"2"')
      expect(visibleIn(metadata, before?.headers.txids[0])).toBe(true)
      expect(BigInt(before?.headers.lsn) < BigInt(metadata.database_lsn)).toBe(true)
      expect(visibleIn(metadata, after?.headers.txids[0])).toBe(false)
      expect(BigInt(after?.headers.lsn) >= BigInt(metadata.database_lsn)).toBe(true)
    })
  })
}
