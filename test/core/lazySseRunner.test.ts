/**
 * The default SSE runner when its code cannot be loaded (a chunk gone after a deploy, the network dropped while it
 * loaded): live updates go on by long-polling, and the status says why (lazySseRunner.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ShapeStatus } from '../../src/core/index'
import { createTestShapeServer } from '../../src/testing/index'
import { ITEMS } from './support/itemsTable'


afterEach(() => {
  vi.doUnmock('../../src/core/sseRunner')
  vi.resetModules()
})

async function until(check: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('lazySseRunner when the SSE code fails to load', () => {
  it('falls back to long-polling with the load error as fallbackReason, and live changes keep arriving', async () => {
    vi.resetModules()
    vi.doMock('../../src/core/sseRunner', () => {
      throw new Error('Failed to fetch dynamically imported module: /assets/sseRunner-1a2b.js')
    })
    const { ShapeClient } = await import('../../src/core/index')
    const server = createTestShapeServer({ tables: [ITEMS] })
    const urls: string[] = []
    const client = new ShapeClient({
      fetch: (input, init) => {
        urls.push(String(input))
        return server.fetch(input, init)
      },
      visibility: null,
      liveSse: true,
    })
    try {
      const shape = client.shape<{ id: number; title: string }>({ url: server.url, params: { table: 'items' } })
      const statuses: ShapeStatus[] = []
      const offStatus = shape.subscribeStatus(() => statuses.push(shape.getStatus()))
      const release = shape.retain()
      await shape.whenUpToDate()
      await server.insert('items', { id: 2, title: 'two' })
      await until(() => shape.getSnapshot().data.length === 2, 'the live insert')
      await server.insert('items', { id: 3, title: 'three' })
      await until(() => shape.getSnapshot().data.length === 3, 'the second live insert')
      const status = shape.getStatus()
      expect(status.phase).not.toBe('error')
      expect(status.error).toBeUndefined()
      expect(status.transport).toBe('long-poll')
      expect(status.fallbackReason).toMatch(/^the SSE code could not be loaded \(.+\), so live updates use long-polling$/)
      expect(statuses.some((s) => s.phase === 'error')).toBe(false)
      const live = urls.filter((url) => url.includes('live=true'))
      expect(live.length).toBeGreaterThan(0)
      expect(live.every((url) => !url.includes('live_sse'))).toBe(true)
      release()
      offStatus()
    } finally {
      client.dispose()
      await server.close()
    }
  })
})
