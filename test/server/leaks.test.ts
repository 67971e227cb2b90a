/**
 * Nothing is left behind: every timer a held long-poll or an SSE stream arms is released when it ends, whatever
 * ends it (data, client abort, body cancel, shape deletion, handler close).
 */
import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/core/clock'
import { realClock } from '../../src/core/clock'
import { createShapeHandler } from '../../src/server/handler'
import { createMemorySource } from '../../src/server/sources/memory'
import { SseReader } from './support/shapeHttp'

/** A real clock that knows which of its timers are still pending, and resolves `armed` at each new one. */
function countingClock() {
  const pending = new Set<unknown>()
  let onArm: (() => void) | undefined
  const clock: Clock = {
    now: () => realClock.now(),
    setTimeout(callback, ms) {
      const handle = realClock.setTimeout(() => {
        pending.delete(handle)
        callback()
      }, ms)
      pending.add(handle)
      onArm?.()
      return handle
    },
    clearTimeout(handle) {
      pending.delete(handle)
      realClock.clearTimeout(handle)
    },
  }
  const armed = () => new Promise<void>((resolve) => (onArm = resolve))
  return { clock, pending, armed }
}

async function setup() {
  const counting = countingClock()
  const source = createMemorySource({
    tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }],
  })
  const handler = createShapeHandler({
    source,
    clock: counting.clock,
    longPollTimeoutMs: 60_000,
    sseTimeoutMs: 60_000,
    keepAliveMs: 30_000,
    allowDelete: true,
  })
  const first = await handler(new Request('http://t/v1/shape?table=items&offset=-1'))
  const handle = first.headers.get('electric-handle') as string
  const live = `http://t/v1/shape?table=items&offset=0_inf&handle=${handle}&live=true`
  return { ...counting, source, handler, handle, live }
}

describe('no timers left behind', () => {
  it('a held long-poll ended by data or by the client', async () => {
    const { handler, live, source, pending, armed } = await setup()
    const wokenUp = armed()
    const byData = handler(new Request(live))
    await wokenUp
    expect(pending.size).toBe(1)
    source.insert('items', { id: 1 })
    expect((await byData).status).toBe(200)
    expect(pending.size).toBe(0)

    const controller = new AbortController()
    const heldAgain = armed()
    const byAbort = handler(new Request(live.replace('0_inf', '1_0'), { signal: controller.signal }))
    await heldAgain
    controller.abort()
    await byAbort
    expect(pending.size).toBe(0)
  })

  it('an SSE stream ended by abort, by body cancel, by deletion and by close', async () => {
    const { handler, live, handle, pending } = await setup()
    const sse = `${live}&live_sse=true`
    const controller = new AbortController()
    const aborted = await handler(new Request(sse, { signal: controller.signal }))
    expect(pending.size).toBe(2)
    controller.abort()
    await expect(new SseReader(aborted.body as ReadableStream<Uint8Array>).toEnd()).rejects.toThrow()
    expect(pending.size).toBe(0)

    const cancelled = await handler(new Request(sse))
    await cancelled.body?.cancel()
    expect(pending.size).toBe(0)

    const deleted = await handler(new Request(sse))
    await handler(new Request(`http://t/v1/shape?table=items&handle=${handle}`, { method: 'DELETE' }))
    expect(await deleted.text()).toBe('')
    expect(pending.size).toBe(0)

    const first = await handler(new Request('http://t/v1/shape?table=items&offset=-1'))
    const next = first.headers.get('electric-handle') as string
    const closed = await handler(new Request(`http://t/v1/shape?table=items&offset=0_inf&handle=${next}&live=true&live_sse=true`))
    await handler.close()
    expect(await closed.text()).toBe('')
    expect(pending.size).toBe(0)
  })
})
