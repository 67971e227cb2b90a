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
    const post = await handler(new Request('http://t/v1/shape?table=items&offset=-1', { method: 'POST', body: '{}' }))
    expect(post.status).toBe(405)
    expect(post.headers.get('cache-control')).toBe('no-store')
  })

  it('DELETE without handle or table is a 400 naming the handle', async () => {
    const response = await handler(new Request('http://t/v1/shape', { method: 'DELETE' }))
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      message: 'Invalid request',
      errors: { handle: ["can't be blank when shape definition is missing"] },
    })
  })
})
