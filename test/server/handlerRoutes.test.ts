import { describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../src/server/handler'
import { createMemorySource } from '../../src/server/sources/memory'

describe('handler routes', () => {
  const handler = createShapeHandler({
    source: createMemorySource({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] }),
  })

  it('answers under a mount prefix, 404s unknown paths, 405s unsupported methods', async () => {
    const mounted = await handler(new Request('http://t/api/electric/v1/shape?table=items&offset=-1'))
    expect(mounted.status).toBe(200)
    const unknown = await handler(new Request('http://t/v2/shape?table=items&offset=-1'))
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('electric-server')).toMatch(/^ElectricSQL\//)
    const put = await handler(new Request('http://t/v1/shape?table=items&offset=-1', { method: 'PUT', body: '{}' }))
    expect(put.status).toBe(405)
    expect(put.headers.get('cache-control')).toBe('no-store')
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS')
    expect(await put.json()).toEqual({ message: 'PUT not allowed' })
    const preflight = await handler(new Request('http://t/v1/shape', { method: 'OPTIONS' }))
    expect(preflight.headers.get('access-control-allow-methods')).toBe(put.headers.get('allow'))
  })

  it('/v1/health answers GET and HEAD; any other method is 405 with allow: GET, HEAD', async () => {
    expect((await handler(new Request('http://t/v1/health'))).status).toBe(200)
    expect((await handler(new Request('http://t/v1/health', { method: 'HEAD' }))).status).toBe(200)
    const post = await handler(new Request('http://t/v1/health', { method: 'POST', body: '{}' }))
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('POST /v1/shape is a subset snapshot of the shape its query names', async () => {
    const post = await handler(new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: '{}' }))
    expect(post.status).toBe(200)
    expect(post.headers.get('electric-snapshot')).toBe('true')
    expect(post.headers.get('cache-control')).toBe('no-cache')
    expect(await post.json()).toMatchObject({ metadata: { snapshot_mark: expect.any(Number) }, data: [] })
  })

  it('DELETE without handle or table is a 400 naming the handle', async () => {
    const deleting = createShapeHandler({
      source: createMemorySource({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] }),
      allowDelete: true,
    })
    const response = await deleting(new Request('http://t/v1/shape', { method: 'DELETE' }))
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      message: 'Invalid request',
      errors: { handle: ["can't be blank when shape definition is missing"] },
    })
  })

  describe('with a secret', () => {
    const secured = createShapeHandler({
      source: createMemorySource({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] }),
      secret: 'open sesame',
    })
    const shapeUrl = (extra: string) => `http://t/v1/shape?table=items&offset=-1${extra}`

    it.each([
      ['no secret', ''],
      ['a wrong secret', '&secret=nope'],
      ['a longer secret that starts like it', '&secret=open%20sesame%21'],
      ['a prefix of it', '&secret=open'],
    ])('refuses a request with %s: 401 with Electric\'s body, before the shape is looked at', async (_name, extra) => {
      for (const method of ['GET', 'HEAD', 'DELETE', 'POST']) {
        const response = await secured(new Request(shapeUrl(extra), { method }))
        expect(response.status).toBe(401)
        if (method !== 'HEAD') expect(await response.json()).toEqual({ message: 'Unauthorized - Invalid API secret' })
      }
      // Even a request that would be a 400 is a 401 first.
      expect((await secured(new Request(`http://t/v1/shape?offset=-1${extra}`))).status).toBe(401)
    })

    it('serves with secret or the legacy api_secret; preflight and health stay open', async () => {
      expect((await secured(new Request(shapeUrl('&secret=open%20sesame')))).status).toBe(200)
      expect((await secured(new Request(shapeUrl('&api_secret=open%20sesame')))).status).toBe(200)
      expect((await secured(new Request(shapeUrl(''), { method: 'OPTIONS', headers: { origin: 'http://app' } }))).status).toBe(204)
      expect((await secured(new Request('http://t/v1/health'))).status).toBe(200)
    })
  })
})
