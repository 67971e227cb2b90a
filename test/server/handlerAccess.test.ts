/**
 * The handler's access options: the table allow-list, the body cap, CORS origins, DELETE, and what a client learns
 * of an internal failure (nothing; `onError` gets it).
 */
import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../src/core/errors'
import { createShapeHandler } from '../../src/server/handler'
import type { ShapeHandlerOptions } from '../../src/server/handler'
import { readBodyText } from '../../src/server/requestBody'
import { createMemorySource } from '../../src/server/sources/memory'
import type { MemoryTableInit } from '../../src/server/sources/memory'
import { createTableAccess, TableAccessError } from '../../src/server/tableAccess'
import { createTestShapeServer } from '../../src/testing/createTestShapeServer'
import { wrapSource } from './support/wrapSource'

const table = (name: string, schema?: string): MemoryTableInit => ({
  ...(schema === undefined ? {} : { schema }),
  name,
  columns: [{ name: 'id', type: 'int4', primaryKey: true }],
  rows: [{ id: 1 }],
})

const TABLES = [table('items'), table('todos'), table('Mixed'), table('secrets', 'private'), table('todos', 'app')]

function handlerWith(options: Omit<ShapeHandlerOptions, 'source'> = {}) {
  const describes: string[] = []
  const inner = createMemorySource({ tables: TABLES })
  const source = wrapSource(inner, {
    describeTable: (schema, name) => {
      describes.push(`${schema}.${name}`)
      return inner.describeTable(schema, name)
    },
  })
  return { handler: createShapeHandler({ source, ...options }), describes }
}

async function statusOf(handler: (request: Request) => Promise<Response>, tableParam: string): Promise<number> {
  const response = await handler(new Request(`http://t/v1/shape?table=${encodeURIComponent(tableParam)}&offset=-1`))
  await response.body?.cancel()
  return response.status
}

describe('the table allow-list', () => {
  it('serves only public tables by default, refusing others as missing without asking the source', async () => {
    const { handler, describes } = handlerWith()
    expect(await statusOf(handler, 'items')).toBe(200)
    expect(await statusOf(handler, 'public.todos')).toBe(200)
    const refused = await handler(new Request('http://t/v1/shape?table=private.secrets&offset=-1'))
    const missing = await handler(new Request('http://t/v1/shape?table=private.nothing&offset=-1'))
    expect(refused.status).toBe(400)
    // The same answer as for a table that does not exist: a refusal says nothing about existence.
    expect(await refused.json()).toEqual({
      message: 'Invalid request',
      errors: { table: ['Table "private"."secrets" does not exist. If the table name contains capitals or special characters you must quote it.'] },
    })
    expect((await missing.json()).errors.table[0]).toContain('"private"."nothing" does not exist')
    expect(describes).toEqual(['public.items', 'public.todos'])
  })

  it('`tables` serves exactly the listed tables, however a request spells them', async () => {
    const { handler, describes } = handlerWith({ tables: ['items', 'app.todos', '"Mixed"'] })
    expect(await statusOf(handler, 'items')).toBe(200)
    expect(await statusOf(handler, 'PUBLIC.ITEMS')).toBe(200)
    expect(await statusOf(handler, '"public"."items"')).toBe(200)
    expect(await statusOf(handler, 'app.todos')).toBe(200)
    expect(await statusOf(handler, '"Mixed"')).toBe(200)
    expect(await statusOf(handler, 'mixed')).toBe(400)
    expect(await statusOf(handler, 'todos')).toBe(400)
    expect(await statusOf(handler, 'private.secrets')).toBe(400)
    expect(describes.every((name) => ['public.items', 'app.todos', 'public.Mixed'].includes(name))).toBe(true)
  })

  it('`schemas` serves every table of the listed schemas; with `tables`, both', async () => {
    const { handler } = handlerWith({ schemas: ['app'], tables: ['todos'] })
    expect(await statusOf(handler, 'app.todos')).toBe(200)
    expect(await statusOf(handler, 'todos')).toBe(200)
    expect(await statusOf(handler, 'items')).toBe(400)
    expect(await statusOf(handler, 'private.secrets')).toBe(400)
  })

  it('a system schema is never served, and naming one in the options is a TableAccessError', async () => {
    const access = createTableAccess({ schemas: ['public'] })
    for (const schema of ['pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_3']) expect(access.allows(schema, 'x')).toBe(false)
    for (const options of [{ schemas: ['pg_catalog'] }, { schemas: ['information_schema'] }, { tables: ['pg_catalog.pg_authid'] }, { tables: ['a.b.c'] }]) {
      expect(() => createShapeHandler({ source: createMemorySource(), ...options })).toThrow(TableAccessError)
    }
  })

  it('`tables` or `schemas` given as one string (not a list) is a TableAccessError, never a list of its letters', async () => {
    for (const options of [{ tables: 'items' }, { schemas: 'app' }, { tables: ['items', 5] }, { tables: null }]) {
      expect(() => createShapeHandler({ source: createMemorySource({ tables: [table('i')] }), ...(options as Partial<ShapeHandlerOptions>) })).toThrow(TableAccessError)
      expect(() => createShapeHandler({ source: createMemorySource(), ...(options as Partial<ShapeHandlerOptions>) })).toThrow(/must be a list of names/)
    }
  })

  it('the DELETE route refuses a table outside the allow-list without asking the source', async () => {
    const { handler, describes } = handlerWith({ allowDelete: true })
    const response = await handler(new Request('http://t/v1/shape?table=private.secrets', { method: 'DELETE' }))
    expect(response.status).toBe(400)
    expect(describes).toEqual([])
  })

  it('createTestShapeServer serves the schemas of the tables it was given', async () => {
    const server = createTestShapeServer({ tables: [table('todos', 'app'), table('items')] })
    try {
      expect((await server.fetch(`${server.url}?table=app.todos&offset=-1`)).status).toBe(200)
      expect((await server.fetch(`${server.url}?table=items&offset=-1`)).status).toBe(200)
      server.source.createTable(table('secrets', 'private'))
      expect((await server.fetch(`${server.url}?table=private.secrets&offset=-1`)).status).toBe(400)
    } finally {
      await server.close()
    }
  })
})

describe('request bodies', () => {
  /** A body stream that counts how many chunks were pulled from it and whether it was cancelled. */
  function countingBody(chunkBytes: number, chunks: number) {
    const state = { pulled: 0, cancelled: false }
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (state.pulled === chunks) return controller.close()
          state.pulled += 1
          controller.enqueue(new Uint8Array(chunkBytes).fill(0x20))
        },
        cancel() {
          state.cancelled = true
        },
      },
      { highWaterMark: 0 },
    )
    return { stream, state }
  }

  it('a streamed body is cut off as soon as it passes maxBodyBytes: 413, the rest never pulled', async () => {
    const { handler } = handlerWith({ maxBodyBytes: 1000 })
    const { stream, state } = countingBody(300, 1_000)
    const response = await handler(
      new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    )
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({ message: 'Request body too large', errors: { body: ['must be at most 1000 bytes'] } })
    expect(state.pulled).toBeLessThanOrEqual(5)
    expect(state.cancelled).toBe(true)
  })

  it('a body is not read before the secret is checked, and an unread body is cancelled', async () => {
    const { handler } = handlerWith({ secret: 'x' })
    const { stream, state } = countingBody(300, 1_000)
    const response = await handler(
      new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    )
    expect(response.status).toBe(401)
    expect(state.pulled).toBeLessThanOrEqual(1)
    expect(state.cancelled).toBe(true)
  })

  it('a body at the cap is read whole; a declared length over it is refused unread', async () => {
    expect(await readBodyText(new Request('http://t/', { method: 'POST', body: 'é'.repeat(50) }), 100)).toEqual({ ok: true, text: 'é'.repeat(50) })
    expect(await readBodyText(new Request('http://t/', { method: 'POST', body: 'x'.repeat(101) }), 100)).toEqual({ ok: false, reason: 'too-large' })
    const declared = new Request('http://t/', { method: 'POST', body: '{}', headers: { 'content-length': '5000' } })
    expect(await readBodyText(declared, 100)).toEqual({ ok: false, reason: 'too-large' })
  })

  it('maxBodyBytes must be a positive integer', () => {
    for (const maxBodyBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => createShapeHandler({ source: createMemorySource(), maxBodyBytes })).toThrow(RangeError)
    }
  })
})

describe('CORS origins', () => {
  const preflightFrom = (origin: string | undefined) =>
    new Request('http://t/v1/shape?table=items', { method: 'OPTIONS', headers: origin === undefined ? {} : { origin } })
  const getFrom = (origin: string | undefined) =>
    new Request('http://t/v1/shape?table=items&offset=-1', { headers: origin === undefined ? {} : { origin } })

  it('by default reflects any origin but never `null`, and says the answer varies by origin', async () => {
    const { handler } = handlerWith()
    const app = await handler(getFrom('http://app.test'))
    expect(app.headers.get('access-control-allow-origin')).toBe('http://app.test')
    expect(app.headers.get('vary')).toMatch(/origin/i)
    expect((await handler(getFrom(undefined))).headers.get('access-control-allow-origin')).toBe('*')
    for (const request of [getFrom('null'), preflightFrom('null')]) {
      const response = await handler(request)
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([])
    }
  })

  it('a list allows exactly its origins (`null` only when listed)', async () => {
    const { handler } = handlerWith({ cors: { origins: ['https://app.example', 'null'] } })
    expect((await handler(getFrom('https://app.example'))).headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect((await handler(getFrom('null'))).headers.get('access-control-allow-origin')).toBe('null')
    const evil = await handler(preflightFrom('https://evil.example'))
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
    expect(evil.headers.get('access-control-allow-methods')).toBeNull()
    expect((await handler(getFrom(undefined))).headers.get('access-control-allow-origin')).toBeNull()
  })

  it('a preflight allows content-type for a POST (a subset with a JSON body) and nothing else it was not already allowing', async () => {
    const { handler } = handlerWith()
    const preflight = (method: string, requested: string) =>
      handler(
        new Request('http://t/v1/shape?table=items', {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': method, 'access-control-request-headers': requested },
        }),
      )
    const post = await preflight('POST', 'content-type')
    expect(post.status).toBe(204)
    expect(post.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(post.headers.get('access-control-allow-methods')).toContain('POST')
    expect(post.headers.get('access-control-allow-headers')).toBe('content-type')
    const mixed = await preflight('POST', 'Content-Type, authorization, x-evil, traceparent')
    expect(mixed.headers.get('access-control-allow-headers')).toBe('content-type, traceparent')
    // A GET carries no body: it still gets only the headers the clients send on it.
    const get = await preflight('GET', 'content-type, if-none-match')
    expect(get.headers.get('access-control-allow-headers')).toBe('if-none-match')
  })

  it("a predicate decides per origin (a throwing one allows nothing); '*' allows all", async () => {
    const { handler } = handlerWith({ cors: { origins: (origin) => origin.endsWith('.example') } })
    expect((await handler(getFrom('https://a.example'))).headers.get('access-control-allow-origin')).toBe('https://a.example')
    expect((await handler(getFrom('https://a.test'))).headers.get('access-control-allow-origin')).toBeNull()
    const throwing = handlerWith({ cors: { origins: () => { throw new Error('bug') } } }).handler
    expect((await throwing(getFrom('https://a.example'))).headers.get('access-control-allow-origin')).toBeNull()
    const star = handlerWith({ cors: { origins: '*' } }).handler
    expect((await star(getFrom('null'))).headers.get('access-control-allow-origin')).toBe('*')
    // The origins may also be given directly.
    const listed = handlerWith({ cors: ['https://a.example'] }).handler
    expect((await listed(getFrom('https://a.example'))).headers.get('access-control-allow-origin')).toBe('https://a.example')
    expect((await listed(getFrom('https://b.example'))).headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('options of the wrong kind', () => {
  it('are an InvalidOptionsError naming the option when the handler is created, not a TypeError on each request', () => {
    const source = createMemorySource()
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /createShapeHandler options must be an object/],
      [{}, /"source" must be a change source/],
      [{ source: null }, /"source" must be a change source/],
      [{ source: {} }, /"source" must be a change source/],
      [{ source, cors: null }, /"cors" must be/],
      [{ source, cors: { origins: 5 } }, /"cors" must be/],
      [{ source, cors: ['https://a.example', 5] }, /"cors" must be/],
      // Entries no browser sends as Origin would match nothing and refuse every page without a word.
      [{ source, cors: ['http://localhost:5173/'] }, /"cors" lists "http:\/\/localhost:5173\/", which is not an origin.*did you mean "http:\/\/localhost:5173"/],
      [{ source, cors: { origins: ['https://app.example', '*'] } }, /"cors" lists "\*".*give '\*' alone/],
      [{ source, cors: ['https://App.example:443'] }, /did you mean "https:\/\/app.example"/],
      [{ source, onError: 'log' }, /"onError" must be a function/],
    ]
    for (const [options, message] of bad) {
      const create = () => createShapeHandler(options as ShapeHandlerOptions)
      expect(create).toThrow(InvalidOptionsError)
      expect(create).toThrow(message)
    }
  })
})

describe('DELETE /v1/shape', () => {
  async function liveShape(handler: (request: Request) => Promise<Response>): Promise<string> {
    const response = await handler(new Request('http://t/v1/shape?table=items&offset=-1'))
    await response.body?.cancel()
    return response.headers.get('electric-handle') as string
  }

  it('is a 405 by default, not listed among the methods, and the shape stays', async () => {
    const { handler } = handlerWith()
    const handle = await liveShape(handler)
    const response = await handler(new Request(`http://t/v1/shape?table=items&handle=${handle}`, { method: 'DELETE' }))
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS')
    expect(await response.json()).toEqual({ message: 'DELETE not allowed' })
    expect(await liveShape(handler)).toBe(handle)
  })

  it('is served with allowDelete, or with the secret when one is set', async () => {
    const open = handlerWith({ allowDelete: true }).handler
    const handle = await liveShape(open)
    expect((await open(new Request(`http://t/v1/shape?table=items&handle=${handle}`, { method: 'DELETE' }))).status).toBe(202)

    const secured = handlerWith({ secret: 's' }).handler
    const securedHandle = await (async () => {
      const response = await secured(new Request('http://t/v1/shape?table=items&offset=-1&secret=s'))
      await response.body?.cancel()
      return response.headers.get('electric-handle') as string
    })()
    expect((await secured(new Request(`http://t/v1/shape?table=items&handle=${securedHandle}`, { method: 'DELETE' }))).status).toBe(401)
    expect((await secured(new Request(`http://t/v1/shape?table=items&handle=${securedHandle}&secret=s`, { method: 'DELETE' }))).status).toBe(202)
    const refusing = handlerWith({ secret: 's', allowDelete: false }).handler
    expect((await refusing(new Request('http://t/v1/shape?table=items&secret=s', { method: 'DELETE' }))).status).toBe(405)
  })
})

describe('internal failures', () => {
  it('a failing source is a 503 with a generic message; the error goes to onError', async () => {
    const reported: unknown[] = []
    const inner = createMemorySource({ tables: TABLES })
    const secret = new Error('connect ECONNREFUSED 10.0.0.5:5432 at /srv/app/node_modules/pg/lib/client.js:132')
    const source = wrapSource(inner, { snapshot: () => Promise.reject(secret) })
    const handler = createShapeHandler({ source, onError: (error) => reported.push(error) })
    const response = await handler(new Request('http://t/v1/shape?table=items&offset=-1'))
    const text = await response.text()
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    expect(JSON.parse(text)).toEqual({ message: 'Could not create the shape' })
    expect(text).not.toMatch(/ECONNREFUSED|node_modules|10\.0\.0\.5/)
    expect(reported).toEqual([secret])
  })

  it('a throw anywhere is a 500 with a generic message, and a throwing onError changes nothing', async () => {
    const inner = createMemorySource({ tables: TABLES })
    const source = wrapSource(inner, { describeTable: () => { throw new TypeError('boom at /srv/app/x.ts:1:2') } })
    const handler = createShapeHandler({ source, onError: () => { throw new Error('logger down') } })
    const response = await handler(new Request('http://t/v1/shape?table=items&offset=-1'))
    expect(response.status).toBe(503)
    expect(await response.text()).not.toMatch(/boom|x\.ts/)
    const deleting = createShapeHandler({ source, allowDelete: true, onError: () => undefined })
    const deleted = await deleting(new Request('http://t/v1/shape?table=items', { method: 'DELETE' }))
    expect(deleted.status).toBe(500)
    expect(await deleted.json()).toEqual({ message: 'Internal server error' })
  })
})
