/**
 * Conformance of live changes (§3.2, §4.2, §5.1): long-poll and SSE, message formats per replica mode, key changes,
 * op positions, cursors, deletion while held.
 */
import { describe, expect, it } from 'vitest'
import { realClock } from '../../../src/core/clock'
import { CURSOR_EPOCH_MS } from '../../../src/server/cursor'
import type { ConformanceContext } from './conformance'
import { SHORT_TIMEOUTS } from './conformance'
import { SseReader, call, initialSync, liveUntil, observedClock, shapeUrl } from './shapeHttp'
import type { WireMessage } from './shapeHttp'

const count = (n: number) => (changes: WireMessage[]) => changes.length >= n

export function defineLiveConformance(ctx: ConformanceContext): void {
  describe('live long-poll', () => {
    it('§8.15 held until the timeout, then [up-to-date] without data, same offset, cursor and live cache', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const started = performance.now()
      const response = await call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))
      expect(performance.now() - started).toBeGreaterThanOrEqual(SHORT_TIMEOUTS.longPollTimeoutMs - 20)
      expect(response.status).toBe(200)
      expect(response.body).toEqual([{ headers: { control: 'up-to-date', global_last_seen_lsn: expect.stringMatching(/^\d+$/) } }])
      expect(response.headers.get('electric-has-data')).toBe('false')
      expect(response.headers.get('electric-offset')).toBe(position.offset)
      expect(response.headers.get('electric-up-to-date')).toBe('')
      expect(response.headers.get('electric-cursor')).toMatch(/^\d+$/)
      expect(response.headers.has('electric-schema')).toBe(false)
      expect(response.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=5')
      expect(response.headers.get('etag')).toMatch(new RegExp(`^"${position.handle}:${position.offset}:${position.offset}:\\d+"$`))
    })

    it('no-change answers (live timeouts, offset=now) never revalidate: each etag is new and never gets a 304', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ longPollTimeoutMs: 50 })
      const { position } = await initialSync(handler, { table })
      const live = shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true', cursor: '1' })
      const now = shapeUrl({ table, offset: 'now' })
      for (const url of [live, now]) {
        const first = await call(handler, url)
        const etag = first.headers.get('etag') as string
        const second = await call(handler, url, { headers: { 'if-none-match': etag } })
        expect(second.status, url).toBe(200)
        expect(second.headers.get('electric-has-data')).toBe('false')
        expect(second.headers.get('etag')).not.toBe(etag)
      }
    })

    it('a live answer with data revalidates: If-None-Match with its etag → 304 with the live headers', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      await liveUntil(handler, { table }, position, count(1))
      const url = shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true', cursor: '1' })
      const first = await call(handler, url)
      expect(first.headers.get('electric-has-data')).toBe('true')
      const again = await call(handler, url, { headers: { 'if-none-match': first.headers.get('etag') as string } })
      expect(again.status).toBe(304)
      expect(again.text).toBe('')
      expect(again.headers.get('electric-offset')).toBe(first.headers.get('electric-offset'))
      expect(again.headers.get('electric-cursor')).toMatch(/^\d+$/)
      expect(again.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=5')
    })

    it('§8.16 an insert answers the held request with the full row, tx headers and the new offset', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ longPollTimeoutMs: 10_000 })
      const { position } = await initialSync(handler, { table })
      const held = call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))
      await ctx.fixture.insert(table, { id: 42, title: 'hi', n: null })
      const response = await held
      expect(response.status).toBe(200)
      const [change, upToDate] = response.body as WireMessage[]
      expect(change).toEqual({
        key: `"public"."${table}"/"42"`,
        value: { id: '42', title: 'hi', n: null },
        headers: {
          operation: 'insert',
          relation: ['public', table],
          lsn: expect.stringMatching(/^\d+$/),
          op_position: 0,
          txids: [expect.any(Number)],
          last: true,
        },
      })
      expect(Object.keys(change?.headers ?? {})).toEqual(['operation', 'relation', 'lsn', 'op_position', 'txids', 'last'])
      expect(upToDate).toEqual({ headers: { control: 'up-to-date', global_last_seen_lsn: change?.headers.lsn } })
      expect(response.headers.get('electric-offset')).toBe(`${change?.headers.lsn}_0`)
      expect(response.headers.get('electric-has-data')).toBe('true')
    })

    it('§8.17 the cursor is the next 20 s bucket, and strictly greater than a request cursor in it', async () => {
      const table = await ctx.itemsTable()
      const now = realClock.now()
      const handler = ctx.handler({ longPollTimeoutMs: 20_000, clock: { ...realClock, now: () => now } })
      const { position } = await initialSync(handler, { table })
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      await liveUntil(handler, { table }, position, count(1))
      const bucket = Math.ceil(Math.floor((now - CURSOR_EPOCH_MS) / 1000) / 20) * 20
      const behind = { table, offset: position.offset, handle: position.handle, live: 'true' }
      const fresh = await call(handler, shapeUrl({ ...behind, cursor: String(bucket - 20) }))
      expect(fresh.headers.get('electric-cursor')).toBe(String(bucket))
      const bumped = await call(handler, shapeUrl({ ...behind, cursor: String(bucket) }))
      const cursor = Number(bumped.headers.get('electric-cursor'))
      expect(cursor).toBeGreaterThan(bucket)
      expect(cursor).toBeLessThanOrEqual(bucket + 3600)
    })

    it('§8.18 update: replica=default sends key + changed columns, replica=full the row and old_value', async () => {
      const table = await ctx.itemsTable({ replicaFull: true })
      await ctx.fixture.insert(table, { id: 1, title: 'old', n: 3 })
      const handler = ctx.handler()
      const plain = await initialSync(handler, { table })
      const full = await initialSync(handler, { table, replica: 'full' })
      await ctx.fixture.update(table, { id: 1 }, { title: 'new' })
      const [update] = (await liveUntil(handler, { table }, plain.position, count(1))).changes
      expect(update?.headers.operation).toBe('update')
      expect(update?.value).toEqual({ id: '1', title: 'new' })
      expect(update).not.toHaveProperty('old_value')
      const [fullUpdate] = (await liveUntil(handler, { table, replica: 'full' }, full.position, count(1))).changes
      expect(fullUpdate?.value).toEqual({ id: '1', title: 'new', n: '3' })
      expect(fullUpdate?.old_value).toEqual({ title: 'old' })
    })

    it('§8.19 delete: replica=default sends the key columns, replica=full the old row', async () => {
      const table = await ctx.itemsTable({ replicaFull: true })
      await ctx.fixture.insert(table, { id: 1, title: 'gone', n: 3 })
      const handler = ctx.handler()
      const plain = await initialSync(handler, { table })
      const full = await initialSync(handler, { table, replica: 'full' })
      await ctx.fixture.delete(table, { id: 1 })
      const [removed] = (await liveUntil(handler, { table }, plain.position, count(1))).changes
      expect(removed?.headers.operation).toBe('delete')
      expect(removed?.key).toBe(`"public"."${table}"/"1"`)
      expect(removed?.value).toEqual({ id: '1' })
      const [fullRemoved] = (await liveUntil(handler, { table, replica: 'full' }, full.position, count(1))).changes
      expect(fullRemoved?.value).toEqual({ id: '1', title: 'gone', n: '3' })
    })

    it('§8.20 a key change is a delete with key_change_to then an insert with key_change_from at op +1', async () => {
      const table = await ctx.itemsTable({ replicaFull: true })
      await ctx.fixture.insert(table, { id: 1, title: 't', n: 1 })
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      await ctx.fixture.update(table, { id: 1 }, { id: 10 })
      const { changes, position: after } = await liveUntil(handler, { table }, position, count(2))
      const [removed, inserted] = changes
      const oldKey = `"public"."${table}"/"1"`
      const newKey = `"public"."${table}"/"10"`
      expect(removed).toMatchObject({ key: oldKey, value: { id: '1' }, headers: { operation: 'delete', key_change_to: newKey } })
      expect(removed?.headers).not.toHaveProperty('last')
      expect(inserted).toMatchObject({
        key: newKey,
        value: { id: '10', title: 't', n: '1' },
        headers: { operation: 'insert', key_change_from: oldKey, last: true },
      })
      expect(inserted?.headers.op_position).toBe((removed?.headers.op_position as number) + 1)
      expect(after.offset).toBe(`${inserted?.headers.lsn}_${inserted?.headers.op_position}`)
    })

    it('op positions count every change of the transaction in steps of 2; last marks the shape’s final change', async () => {
      const table = await ctx.itemsTable()
      const other = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      // A shape on the other table too: sources (like Electric's publication) may only capture tables with shapes.
      await initialSync(handler, { table: other })
      await ctx.fixture.transaction(async (tx) => {
        await tx.insert(other, { id: 1, title: 'elsewhere', n: 0 })
        await tx.insert(table, { id: 1, title: 'a', n: 1 })
        await tx.insert(table, { id: 2, title: 'b', n: 2 })
      })
      const { changes } = await liveUntil(handler, { table }, position, count(2))
      expect(changes.map((c) => c.headers.op_position)).toEqual([2, 4])
      expect(changes.map((c) => c.headers.last)).toEqual([undefined, true])
      expect(new Set(changes.map((c) => c.headers.lsn)).size).toBe(1)
      expect(changes[0]?.headers.txids).toEqual(changes[1]?.headers.txids)
    })

    it('§8.23 deleting the shape while a request is held answers 409 without a handle', async () => {
      const table = await ctx.itemsTable()
      const watcher = observedClock(10_000)
      const handler = ctx.handler({ longPollTimeoutMs: 10_000, clock: watcher.clock, allowDelete: true })
      const { position } = await initialSync(handler, { table })
      const held = call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))
      await watcher.armed()
      await handler(new Request(shapeUrl({ table, handle: position.handle }), { method: 'DELETE' }))
      const response = await held
      expect(response.status).toBe(409)
      expect(response.body).toEqual([{ headers: { control: 'must-refetch' } }])
      expect(response.headers.has('electric-handle')).toBe(false)
      expect(response.headers.get('cache-control')).toBe('public, max-age=1, must-revalidate')
    })

    it('TRUNCATE ends a held request with 409; the refetch serves the table as the transaction left it', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ longPollTimeoutMs: 10_000 })
      await ctx.fixture.insert(table, { id: 1, title: 'gone', n: 1 })
      const { position, messages } = await initialSync(handler, { table })
      expect(messages.filter((message) => message.key !== undefined)).toHaveLength(1)
      const held = call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }))
      await ctx.fixture.transaction(async (tx) => {
        await tx.truncate(table)
        await tx.insert(table, { id: 2, title: 'after', n: 2 })
      })
      const response = await held
      expect(response.status).toBe(409)
      expect(response.body).toEqual([{ headers: { control: 'must-refetch' } }])
      const stale = await call(handler, shapeUrl({ table, offset: position.offset, handle: position.handle }))
      expect(stale.status).toBe(409)
      expect(stale.headers.get('electric-handle')).not.toBe(position.handle)
      const refetched = await initialSync(handler, { table })
      expect(refetched.position.handle).toBe(stale.headers.get('electric-handle'))
      expect(refetched.messages.filter((message) => message.key !== undefined).map((message) => message.value)).toEqual([
        { id: '2', title: 'after', n: '2' },
      ])
    })

    it('TRUNCATE of another table leaves the shape alone', async () => {
      const table = await ctx.itemsTable()
      const other = await ctx.itemsTable()
      const handler = ctx.handler({ longPollTimeoutMs: 10_000 })
      const { position } = await initialSync(handler, { table })
      await ctx.fixture.truncate(other)
      await ctx.fixture.insert(table, { id: 3, title: 'still live', n: 3 })
      const { changes } = await liveUntil(handler, { table }, position, count(1))
      expect(changes.map((change) => change.value)).toEqual([{ id: '3', title: 'still live', n: '3' }])
    })

    it('an aborted held request is answered at once and frees its timer', async () => {
      const table = await ctx.itemsTable()
      const watcher = observedClock(10_000)
      const handler = ctx.handler({ longPollTimeoutMs: 10_000, clock: watcher.clock })
      const { position } = await initialSync(handler, { table })
      const controller = new AbortController()
      const held = handler(
        new Request(shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true' }), { signal: controller.signal }),
      )
      await watcher.armed()
      const started = performance.now()
      controller.abort()
      await held
      expect(performance.now() - started).toBeLessThan(1_000)
    })
  })

  describe('live SSE', () => {
    const sseParams = (table: string, position: { offset: string; handle: string }, extra: Record<string, string> = {}) =>
      shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true', live_sse: 'true', cursor: '1', ...extra })

    it('§8.25 at the head: event-stream headers, nothing at open, data events then up-to-date per commit', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ sseTimeoutMs: 60_000, keepAliveMs: 21_000 })
      const { position } = await initialSync(handler, { table })
      const response = await handler(new Request(sseParams(table, position), { headers: { accept: 'text/event-stream' } }))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/event-stream')
      expect(response.headers.get('cache-control')).toBe('public, max-age=59')
      expect(response.headers.get('electric-offset')).toBe(position.offset)
      expect(response.headers.get('electric-handle')).toBe(position.handle)
      expect(response.headers.get('electric-cursor')).toMatch(/^\d+$/)
      expect(response.headers.has('electric-schema')).toBe(false)
      expect(response.headers.get('connection')).toBe('keep-alive')
      expect(response.headers.get('electric-has-data')).toBe('true')
      expect(response.headers.get('electric-up-to-date')).toBe('')
      expect(response.headers.get('etag')).toBe(`"${position.handle}:${position.offset}:${position.offset}"`)
      const reader = new SseReader(response.body as ReadableStream<Uint8Array>)
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      expect(await reader.until((text) => text.includes('"up-to-date"'))).toBe(true)
      const [change, upToDate] = reader.events()
      expect(reader.text.startsWith('data: {')).toBe(true)
      expect(change?.value).toEqual({ id: '1', title: 'a', n: '1' })
      expect(upToDate).toEqual({ headers: { control: 'up-to-date', global_last_seen_lsn: change?.headers.lsn } })
      expect(reader.text).not.toMatch(/^(event|id|retry):/m)
      await reader.cancel()
    })

    it('§8.26 idle: only keep-alive comments, then a clean close at the SSE timeout', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ sseTimeoutMs: 700, keepAliveMs: 200 })
      const { position } = await initialSync(handler, { table })
      const started = performance.now()
      const response = await handler(new Request(sseParams(table, position)))
      expect(response.headers.get('cache-control')).toBe('public, max-age=1')
      const text = await new SseReader(response.body as ReadableStream<Uint8Array>).toEnd()
      expect(performance.now() - started).toBeGreaterThanOrEqual(680)
      expect(text).toMatch(/^(: keep-alive\n\n){2,3}$/)
    })

    it('§8.27 experimental_live_sse=true instead of live_sse gives the same SSE response', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      const { position } = await initialSync(handler, { table })
      const url = shapeUrl({ table, offset: position.offset, handle: position.handle, live: 'true', experimental_live_sse: 'true' })
      const response = await handler(new Request(url))
      expect(response.headers.get('content-type')).toBe('text/event-stream')
      await response.body?.cancel()
    })

    it('§8.28 behind the head: catch-up events, up-to-date, then the stream closes', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ sseTimeoutMs: 60_000 })
      const { position } = await initialSync(handler, { table })
      await ctx.fixture.insert(table, { id: 1, title: 'a', n: 1 })
      await ctx.fixture.insert(table, { id: 2, title: 'b', n: 2 })
      const { position: head } = await liveUntil(handler, { table }, position, count(2))
      const response = await handler(new Request(sseParams(table, position)))
      const text = await new SseReader(response.body as ReadableStream<Uint8Array>).toEnd()
      const events = text.split('\n\n').filter(Boolean).map((block) => JSON.parse(block.slice('data: '.length)))
      expect(events.map((e) => e.value?.id ?? e.headers.control)).toEqual(['1', '2', 'up-to-date'])
      expect(events[2].headers.global_last_seen_lsn).toBe(head.offset.split('_')[0])
      expect(response.headers.has('electric-up-to-date')).toBe(false)
      expect(response.headers.get('electric-offset')).toBe(head.offset)
      expect(response.headers.get('etag')).toBe(`"${position.handle}:${position.offset}:${head.offset}"`)
    })

    it('an offset past the log end: an event stream that ends silently at half the long-poll timeout (no 400)', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ sseTimeoutMs: 60_000, keepAliveMs: 60_000 })
      const { position } = await initialSync(handler, { table })
      const started = performance.now()
      const response = await handler(new Request(sseParams(table, { offset: '999999999999_0', handle: position.handle })))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/event-stream')
      expect(await new SseReader(response.body as ReadableStream<Uint8Array>).toEnd()).toBe('')
      expect(performance.now() - started).toBeGreaterThanOrEqual(SHORT_TIMEOUTS.longPollTimeoutMs / 2 - 20)
    })

    it('§8.29 a stale handle gets the plain 409 JSON array, not a stream', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler()
      await initialSync(handler, { table })
      const response = await call(handler, sseParams(table, { offset: '0_inf', handle: '1-2' }))
      expect(response.status).toBe(409)
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(response.body).toEqual([{ headers: { control: 'must-refetch' } }])
    })

    it('the stream ends when the shape is deleted, and when the client aborts', async () => {
      const table = await ctx.itemsTable()
      const handler = ctx.handler({ sseTimeoutMs: 60_000, allowDelete: true })
      const { position } = await initialSync(handler, { table })
      const first = await handler(new Request(sseParams(table, position)))
      const controller = new AbortController()
      const second = await handler(new Request(sseParams(table, position, { cursor: '2' }), { signal: controller.signal }))
      controller.abort()
      await expect(new SseReader(second.body as ReadableStream<Uint8Array>).toEnd()).rejects.toThrow()
      await handler(new Request(shapeUrl({ table, handle: position.handle }), { method: 'DELETE' }))
      expect(await new SseReader(first.body as ReadableStream<Uint8Array>).toEnd()).toBe('')
    })
  })
}
