/**
 * `where` / `params` size limits (where/whereLimits.ts, shapeGet.ts, subsetSnapshot.ts): a huge
 * clause is refused with Electric's 400 body before anything parses it or asks the database about it.
 */
import { describe, expect, it } from 'vitest'
import { createShapeHandler, type ShapeHandlerOptions } from '../../src/server/handler'
import { createMemorySource } from '../../src/server/sources/memory'
import { compileWhere } from '../../src/server/whereClause'
import { WhereClauseError } from '../../src/server/where/whereClauseError'
import { checkWhereLists, checkWhereText, DEFAULT_WHERE_LIMITS } from '../../src/server/where/whereLimits'
import { wrapSource } from './support/wrapSource'

const ITEMS = { name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }] }

function setup(options: Omit<ShapeHandlerOptions, 'source'> = {}) {
  const memory = createMemorySource({ tables: [ITEMS] })
  for (let id = 1; id <= 5; id++) memory.insert('items', { id, title: `t${id}` })
  let described = 0
  const source = wrapSource(memory, {
    describeTable: (schema, name) => {
      described += 1
      return memory.describeTable(schema, name)
    },
  })
  const handler = createShapeHandler({ ...options, source })
  return { handler, described: () => described }
}

const get = (handler: (r: Request) => Promise<Response>, params: Record<string, string>) =>
  handler(new Request(`http://t/v1/shape?${new URLSearchParams({ table: 'items', offset: '-1', ...params })}`))

const inList = (count: number) => `id IN (${Array.from({ length: count }, (_, index) => index + 1).join(',')})`

describe('where limits on shapes', () => {
  it('refuses a where longer than maxWhereChars with errors.where, before describing the table', async () => {
    const { handler, described } = setup({ whereLimits: { maxWhereChars: 100 } })
    const response = await get(handler, { where: `title = '${'x'.repeat(200)}'` })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { message: string; errors: { where: string[] } }
    expect(body.message).toBe('Invalid request')
    expect(body.errors.where[0]).toMatch(/limit of 100/)
    expect(described()).toBe(0)
  })

  it('refuses too many params, and params too long in total, with errors.params', async () => {
    const { handler } = setup({ whereLimits: { maxParams: 3, maxParamsChars: 10 } })
    const many = Object.fromEntries(Array.from({ length: 4 }, (_, index) => [`params[${index + 1}]`, String(index)]))
    const tooMany = await get(handler, { where: 'id = $1 OR id = $2 OR id = $3 OR id = $4', ...many })
    expect(tooMany.status).toBe(400)
    expect(((await tooMany.json()) as { errors: { params: string[] } }).errors.params[0]).toMatch(/limit of 3/)
    const tooLong = await get(handler, { where: 'title = $1', 'params[1]': 'y'.repeat(11) })
    expect(tooLong.status).toBe(400)
    expect(((await tooLong.json()) as { errors: { params: string[] } }).errors.params[0]).toMatch(/limit of 10/)
  })

  it('refuses an IN list, or an OR chain, longer than maxListItems; accepts one at the limit', async () => {
    const { handler } = setup({ whereLimits: { maxListItems: 4 } })
    const long = await get(handler, { where: inList(5) })
    expect(long.status).toBe(400)
    expect(((await long.json()) as { errors: { where: string[] } }).errors.where[0]).toMatch(/list of 5 items.*limit of 4/)
    const chain = await get(handler, { where: [1, 2, 3, 4, 5].map((id) => `id = ${id}`).join(' OR ') })
    expect(chain.status).toBe(400)
    const atLimit = await get(handler, { where: inList(4) })
    expect(atLimit.status).toBe(200)
    expect(((await atLimit.json()) as unknown[]).length).toBe(5)
  })

  it('refuses a text constant that folding builds past maxWhereChars + maxParamsChars; accepts one at the limit', async () => {
    const { handler } = setup({ whereLimits: { maxWhereChars: 100, maxParamsChars: 20 } })
    const concat = (copies: number) => `title = lower(${Array(copies).fill('$1').join(' || ')})`
    const long = await get(handler, { where: concat(13), 'params[1]': 'x'.repeat(10) })
    expect(long.status).toBe(400)
    expect(((await long.json()) as { errors: { where: string[] } }).errors.where[0]).toMatch(/constant of 130 characters.*limit of 120/)
    expect((await get(handler, { where: concat(12), 'params[1]': 'x'.repeat(10) })).status).toBe(200)
  })

  // 240 copies of a 65 KB param under the default limits held the server for 6 s and kept 500 MB per shape.
  it('refuses the default-limit form of that amplification fast', async () => {
    const { handler } = setup()
    const started = performance.now()
    const where = `title = lower(${Array(240).fill('$1').join(' || ')})`
    const response = await get(handler, { where, 'params[1]': 'y'.repeat(DEFAULT_WHERE_LIMITS.maxParamsChars) })
    expect(response.status).toBe(400)
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('applies the defaults when no limits are given', async () => {
    const { handler } = setup()
    const response = await get(handler, { where: `title = '${'x'.repeat(DEFAULT_WHERE_LIMITS.maxWhereChars)}'` })
    expect(response.status).toBe(400)
    expect((await get(handler, { where: inList(DEFAULT_WHERE_LIMITS.maxListItems + 1) })).status).toBe(400)
    expect((await get(handler, { where: inList(DEFAULT_WHERE_LIMITS.maxListItems) })).status).toBe(200)
  })

  it('refuses invalid limit options when the handler is created', () => {
    expect(() => createShapeHandler({ source: createMemorySource(), whereLimits: { maxWhereChars: 0 } })).toThrow(RangeError)
    expect(() => createShapeHandler({ source: createMemorySource(), maxShapes: Number.NaN })).toThrow(/maxShapes/)
    expect(() => createShapeHandler({ source: createMemorySource(), sseBufferBytes: Infinity })).toThrow(/sseBufferBytes/)
    expect(() => createShapeHandler({ source: createMemorySource(), maxShapes: Infinity, sseMaxLagBytes: Infinity })).not.toThrow()
  })
})

describe('where limits on subsets', () => {
  it('refuses a subset where over the limits, on GET and on POST, with errors.subset.where', async () => {
    const { handler } = setup({ whereLimits: { maxWhereChars: 50, maxListItems: 3 } })
    const viaGet = await get(handler, { subset__where: `title = '${'x'.repeat(60)}'` })
    expect(viaGet.status).toBe(400)
    const getBody = (await viaGet.json()) as { errors: { subset: { where: string[] } } }
    expect(getBody.errors.subset.where[0]).toMatch(/limit of 50/)
    const viaPost = await handler(
      new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: JSON.stringify({ where: inList(4) }) }),
    )
    expect(viaPost.status).toBe(400)
    const postBody = (await viaPost.json()) as { errors: { subset: { where: string[] } } }
    expect(postBody.errors.subset.where[0]).toMatch(/list of 4 items/)
    const fine = await handler(
      new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: JSON.stringify({ where: inList(3) }) }),
    )
    expect(fine.status).toBe(200)
    expect(((await fine.json()) as { data: unknown[] }).data).toHaveLength(3)
  })
})

describe('checkWhereText / checkWhereLists', () => {
  it('throws a WhereClauseError naming the field, and passes what is within the limits', async () => {
    const limits = { ...DEFAULT_WHERE_LIMITS, maxWhereChars: 5, maxParams: 1 }
    expect(() => checkWhereText({ where: '123456', params: [] }, limits)).toThrow(WhereClauseError)
    try {
      checkWhereText({ where: 'a', params: ['1', '2'] }, limits)
      expect.unreachable()
    } catch (error) {
      expect((error as WhereClauseError).field).toBe('params')
    }
    expect(() => checkWhereText({ where: '12345', params: ['1'] }, limits)).not.toThrow()
    expect(() => checkWhereLists({ a: [{ b: [1, 2, 3] }] }, { ...limits, maxListItems: 2 })).toThrow(/list of 3/)
  })

  it('compileWhere checks the text limits before parsing: an unparsable clause over the limit is refused for its size', async () => {
    const table = createMemorySource({ tables: [ITEMS] }).createTable({ name: 'other', columns: ITEMS.columns })
    await expect(
      compileWhere({ where: '(((( not sql', params: [], table, limits: { ...DEFAULT_WHERE_LIMITS, maxWhereChars: 4 } }),
    ).rejects.toThrow(/limit of 4/)
    await expect(compileWhere({ where: '(((( not sql', params: [], table })).rejects.toThrow(/syntax/i)
  })
})
