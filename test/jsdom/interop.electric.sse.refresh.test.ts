/**
 * `@electric-sql/client`'s `ShapeStream.forceDisconnectAndRefresh()` against our server while an SSE response is
 * open: the client aborts the stream, makes a non-live request, goes live over SSE again and still receives the
 * next change. Under jsdom because the client's SSE needs `document` (see interop.electric.sse.test.ts); the
 * long-poll variant is test/server/interop.electric.refresh.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TestShapeServer } from '../../src/testing'
import { refreshWhileLive } from '../server/support/electricRefresh'

describe('interop with @electric-sql/client over SSE: forceDisconnectAndRefresh', () => {
  let server: TestShapeServer | undefined
  const controller = new AbortController()
  afterEach(async () => {
    controller.abort()
    vi.restoreAllMocks()
    await server?.close()
  })

  it('aborts the open SSE response, refreshes without live, and still delivers the next change over SSE', async () => {
    const warn = vi.spyOn(console, 'warn')
    const run = await refreshWhileLive('sse', controller.signal)
    server = run.server
    expect(run.openLive.sse).toBe(true)
    expect(run.abortedByRefresh).toBe(true)
    const refresh = run.afterRefresh[0]
    expect(refresh?.live).toBe(false)
    expect(refresh?.url.searchParams.has('live_sse')).toBe(false)
    expect(refresh?.url.searchParams.get('handle')).toBe(run.openLive.url.searchParams.get('handle'))
    expect(refresh?.url.searchParams.get('offset')).toBe(run.openLive.url.searchParams.get('offset'))
    const liveAgain = run.afterRefresh.slice(1).filter((request) => request.live)
    expect(liveAgain.length).toBeGreaterThan(0)
    expect(liveAgain.every((request) => request.sse)).toBe(true)
    expect(run.rowsAfterNextChange.map((row) => row.id)).toEqual([1, 2])
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/Falling back to long polling/)
  })
})
