/**
 * `@electric-sql/client`'s `ShapeStream.forceDisconnectAndRefresh()` against our server while a live long-poll is
 * open: the client aborts it, makes a non-live request (our server answers it at the head with up-to-date, which
 * resolves the refresh), goes live again and still receives the next change. The SSE variant runs under jsdom:
 * test/jsdom/interop.electric.sse.refresh.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { TestShapeServer } from '../../src/testing'
import { refreshWhileLive } from './support/electricRefresh'

describe('interop with @electric-sql/client: forceDisconnectAndRefresh', () => {
  let server: TestShapeServer | undefined
  const controller = new AbortController()
  afterEach(async () => {
    controller.abort()
    await server?.close()
  })

  it('long-poll: aborts the open live request, refreshes without live, and still delivers the next change', async () => {
    const run = await refreshWhileLive('long-poll', controller.signal)
    server = run.server
    expect(run.openLive.sse).toBe(false)
    expect(run.abortedByRefresh).toBe(true)
    const refresh = run.afterRefresh[0]
    expect(refresh?.live).toBe(false)
    expect(refresh?.url.searchParams.get('handle')).toBe(run.openLive.url.searchParams.get('handle'))
    expect(refresh?.url.searchParams.get('offset')).toBe(run.openLive.url.searchParams.get('offset'))
    expect(run.afterRefresh.slice(1).some((request) => request.live)).toBe(true)
    expect(run.rowsAfterNextChange.map((row) => row.id)).toEqual([1, 2])
  })
})
