/**
 * The auth proxy recipe of docs/guides/ssr-and-deployment.md, run as a test against the real shape handler. The
 * guide's code block must stay identical to the code between the markers below, so the recipe cannot drift.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import { createTestShapeServer } from '../../src/testing/index'
import type { TestShapeServer } from '../../src/testing/index'

// guide:start
/** Which params of the browser's request the proxy forwards: the stream position, never the shape's definition. */
const FORWARDED = ['offset', 'handle', 'live', 'live_sse', 'cursor', 'expired_handle', 'cache-buster', 'log'] as const

interface TodosProxyOptions {
  /** The sync service's shape endpoint: Electric, or `live-shapes dev` in development. */
  upstream: string
  /** Electric's API secret, added server-side so the browser never sees it. */
  secret?: string
  /** Your auth: the signed-in user's id, or undefined. */
  userId: (request: Request) => Promise<string | undefined>
  fetch?: typeof fetch
}

/** A route handler (e.g. Next.js `app/api/todos-shape/route.ts`: `export const GET = todosProxy({...})`). */
export function todosProxy({ upstream, secret, userId, fetch = globalThis.fetch }: TodosProxyOptions) {
  return async function GET(request: Request): Promise<Response> {
    const user = await userId(request)
    if (user === undefined) return Response.json({ message: 'Sign in first' }, { status: 401 })
    const incoming = new URL(request.url).searchParams
    const url = new URL(upstream)
    for (const name of FORWARDED) {
      const value = incoming.get(name)
      if (value !== null) url.searchParams.set(name, value)
    }
    url.searchParams.set('table', 'todos')
    url.searchParams.set('where', 'owner_id = $1')
    url.searchParams.set('params[1]', user)
    if (secret !== undefined) url.searchParams.set('secret', secret)
    const ifNoneMatch = request.headers.get('if-none-match')
    const answer = await fetch(url, {
      signal: request.signal,
      headers: ifNoneMatch === null ? {} : { 'if-none-match': ifNoneMatch },
    })
    const headers = new Headers(answer.headers)
    headers.delete('content-encoding') // fetch already decoded the body
    headers.delete('content-length')
    // Every user asks for the same URL: no shared cache may keep one user's rows for another.
    headers.set('cache-control', 'private, no-store')
    headers.set('vary', 'cookie, authorization')
    return new Response(answer.body, { status: answer.status, headers })
  }
}
// guide:end

describe('the auth proxy recipe', () => {
  let server: TestShapeServer
  let client: ShapeClient
  afterEach(async () => {
    client.dispose()
    await server.close()
  })

  function setUp() {
    server = createTestShapeServer({
      secret: 'electric-secret',
      tables: [{
        name: 'todos',
        columns: [
          { name: 'id', type: 'int4', primaryKey: true },
          { name: 'owner_id', type: 'text', notNull: true },
          { name: 'title', type: 'text' },
        ],
        rows: [{ id: 1, owner_id: 'ana', title: 'ana 1' }, { id: 2, owner_id: 'bo', title: 'bo 1' }],
      }],
    })
    const proxy = todosProxy({
      upstream: server.url,
      secret: 'electric-secret',
      fetch: server.fetch,
      userId: async (request) => request.headers.get('x-user') ?? undefined,
    })
    const proxyUrl = 'http://app.test/api/todos-shape'
    return { proxy, proxyUrl }
  }

  it('serves only the signed-in user\'s rows, live, whatever definition the browser asks for', async () => {
    const { proxy, proxyUrl } = setUp()
    const requested: string[] = []
    client = new ShapeClient({
      visibility: null,
      fetch: (input, init) => {
        requested.push(String(input))
        return proxy(new Request(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), 'x-user': 'ana' } }))
      },
    })
    // A hostile browser asks for another table and an always-true filter: the proxy ignores both.
    const shape = client.shape<{ id: number; owner_id: string; title: string }>({
      url: proxyUrl,
      params: { table: 'users', where: 'true' },
    })
    const release = shape.retain()
    await shape.whenUpToDate()
    expect(shape.getSnapshot().data.map((row) => row.title)).toEqual(['ana 1'])

    server.source.insert('todos', { id: 3, owner_id: 'bo', title: 'bo 2' })
    server.source.insert('todos', { id: 4, owner_id: 'ana', title: 'ana 2' })
    await new Promise<void>((done) => {
      const stop = shape.subscribe(() => {
        if (shape.getSnapshot().data.length === 2) (stop(), done())
      })
    })
    expect(shape.getSnapshot().data.map((row) => row.title)).toEqual(['ana 1', 'ana 2'])
    expect(requested.some((url) => url.includes('live=true'))).toBe(true)
    release()
  })

  it('answers 401 without a user and marks every answer private', async () => {
    const { proxy, proxyUrl } = setUp()
    client = new ShapeClient({ visibility: null })
    expect((await proxy(new Request(`${proxyUrl}?offset=-1`))).status).toBe(401)
    const answer = await proxy(new Request(`${proxyUrl}?offset=-1`, { headers: { 'x-user': 'bo' } }))
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('private, no-store')
    const rows = ((await answer.json()) as Array<{ value?: { title: string } }>).flatMap((m) => (m.value ? [m.value.title] : []))
    expect(rows).toEqual(['bo 1'])
  })

  it('forwards the position and the cache buster a 409 refetch sends, and its own definition in place of the browser\'s', async () => {
    setUp()
    client = new ShapeClient({ visibility: null })
    const upstream: URL[] = []
    const proxy = todosProxy({
      upstream: server.url,
      secret: 'electric-secret',
      fetch: (input, init) => {
        upstream.push(new URL(String(input)))
        return server.fetch(input, init)
      },
      userId: async () => 'ana',
    })
    // What the client sends after a 409: a fresh snapshot, the expired handle, and a cache buster so that no cache
    // between the proxy and the sync service answers with the expired handle's rows again.
    const answer = await proxy(new Request('http://app.test/api/todos-shape?offset=-1&expired_handle=h-old&cache-buster=b1&table=users&where=true'))
    expect(answer.status).toBe(200)
    const sent = upstream[0]?.searchParams
    expect(sent?.get('cache-buster')).toBe('b1')
    expect(sent?.get('expired_handle')).toBe('h-old')
    expect(sent?.get('table')).toBe('todos')
    expect(sent?.get('where')).toBe('owner_id = $1')
    expect(sent?.get('params[1]')).toBe('ana')
  })

  it('docs/guides/ssr-and-deployment.md shows exactly this recipe', () => {
    const self = readFileSync(resolve('test/server/guideAuthProxy.test.ts'), 'utf8')
    const recipe = self.slice(self.indexOf('// guide:start\n') + 15, self.indexOf('// guide:end'))
    const guide = readFileSync(resolve('docs/guides/ssr-and-deployment.md'), 'utf8')
    expect(/```ts\n([\s\S]*?)```/.exec(guide)?.[1]).toBe(recipe)
  })
})
