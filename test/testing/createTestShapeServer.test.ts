import { describe, expect, it } from 'vitest'
import { FetchError } from '../../src/core/errors'
import { ShapeClient } from '../../src/core/shapeClient'
import { createTestShapeServer } from '../../src/testing'

const items = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'done', type: 'bool' },
  ],
  rows: [{ id: 1, done: false }],
}

describe('createTestShapeServer', () => {
  it('answers shape requests in process through its fetch', async () => {
    const server = createTestShapeServer({ tables: [items] })
    expect(server.url).toBe('http://live-shapes.test/v1/shape')
    const response = await server.fetch(`${server.url}?table=items&offset=-1`)
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body[0].value).toEqual({ id: '1', done: 'false' })
    await server.close()
  })

  it('rejects an aborted held request with the abort reason and frees the handler', async () => {
    const server = createTestShapeServer({ tables: [items], longPollTimeoutMs: 60_000 })
    const first = await server.fetch(`${server.url}?table=items&offset=-1`)
    const handle = first.headers.get('electric-handle') as string
    const controller = new AbortController()
    const held = server.fetch(`${server.url}?table=items&offset=0_inf&handle=${handle}&live=true`, { signal: controller.signal })
    controller.abort()
    await expect(held).rejects.toMatchObject({ name: 'AbortError' })
    await expect(server.fetch(`${server.url}?table=items&offset=-1`, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    await server.close()
  })

  it('close() ends held requests with 409 and open SSE streams', async () => {
    const server = createTestShapeServer({ tables: [items], longPollTimeoutMs: 60_000, sseTimeoutMs: 60_000 })
    const first = await server.fetch(`${server.url}?table=items&offset=-1`)
    const handle = first.headers.get('electric-handle') as string
    const live = `${server.url}?table=items&offset=0_inf&handle=${handle}&live=true`
    const stream = await server.fetch(`${live}&live_sse=true`)
    const held = server.fetch(live)
    await server.close()
    expect((await held).status).toBe(409)
    expect(await stream.text()).toBe('')
  })

  it('with a secret, a client without it gets a typed 401 and recovers when onError supplies it', async () => {
    const server = createTestShapeServer({ tables: [items], secret: 's3cret' })
    const client = new ShapeClient({ fetch: server.fetch, visibility: null })
    const seen: unknown[] = []
    const shape = client.shape({
      url: server.url,
      params: { table: 'items' },
      onError: (error) => {
        seen.push(error)
        return { params: { secret: 's3cret' } }
      },
    })
    const release = shape.retain()
    await shape.whenUpToDate()
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBeInstanceOf(FetchError)
    expect(seen[0]).toMatchObject({ status: 401, retryable: false, json: { message: 'Unauthorized - Invalid API secret' } })
    expect(shape.getSnapshot().data).toEqual([{ id: 1, done: false }])
    release()
    client.dispose()
    await server.close()
  })
})

