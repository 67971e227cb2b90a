/**
 * The SSE runner in a whole client, in plain Node: `ShapeClient` with `liveSse` against the in-process dev server.
 * Proves the seam adapter works end to end and the resume rule holds on a real server: a multi-row transaction
 * over a held stream, the server ending the stream, a reconnect from the offset of the transaction's last change,
 * more changes — each change delivered exactly once, and no short connection.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { LiveConnectionEnd, LiveRunnerFactory } from '../../src/core/liveRunner'
import { isChangeMessage, type Message, type WireRow } from '../../src/core/protocol'
import type { MustRefetch } from '../../src/core/responseMeta'
import type { Shape } from '../../src/core/shape'
import { ShapeClient } from '../../src/core/shapeClient'
import { sseRunner } from '../../src/core/sseRunner'
import { createTestShapeServer, type TestShapeServer } from '../../src/testing'
import { deferred } from './sseHelpers'
import { ITEMS } from './support/itemsTable'


function until<T>(shape: Shape<T>, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve()
    const stop = shape.subscribe(() => {
      if (!done()) return
      stop()
      resolve()
    })
  })
}

let server: TestShapeServer | undefined
let client: ShapeClient | undefined
afterEach(async () => {
  client?.dispose()
  await server?.close()
})

describe('sseRunner with ShapeClient and the dev server', () => {
  it('resumes after a multi-row transaction without re-sending any of it', async () => {
    // Streams end after 1.2 s: long enough not to count as short, short enough to force a reconnect in the test.
    server = createTestShapeServer({ tables: [ITEMS], sseTimeoutMs: 1200 })
    const requests: URL[] = []
    const ends: (LiveConnectionEnd | MustRefetch)[] = []
    const delivered: Message<WireRow>[] = []
    let opened = deferred()
    const observedRunner: LiveRunnerFactory = (context) => {
      const runner = sseRunner(context)
      return {
        ...runner,
        run: async (request, sink) => {
          requests.push(new URL(request.url))
          const end = await runner.run(request, {
            onOpen: (meta) => {
              sink.onOpen(meta)
              opened.resolve()
            },
            onBatch: (batch) => {
              delivered.push(...batch.messages)
              sink.onBatch(batch)
            },
          })
          ends.push(end)
          return end
        },
      }
    }
    const fetch = server.fetch
    client = new ShapeClient({ fetch: (url, init) => fetch(url, init), liveSse: true, liveRunner: observedRunner, visibility: null })
    const shape = client.shape<{ id: number; title: string }>({ url: server.url, params: { table: 'items' } })
    const release = shape.retain()
    await shape.whenUpToDate()
    await opened.promise
    opened = deferred()

    const tx = server.source.transaction((t) => {
      t.insert('items', { id: 2, title: 'two' })
      t.insert('items', { id: 3, title: 'three' })
      t.update('items', { title: 'uno' }, { id: 1 })
    })
    await until(shape, () => shape.getSnapshot().data.length === 3 && shape.getRow('"public"."items"/"1"')?.title === 'uno')

    // The server ends the held stream after sseTimeoutMs; the runner reconnects from the transaction's last change.
    await opened.promise
    expect(requests).toHaveLength(2)
    expect(ends[0]).toMatchObject({ kind: 'closed', aborted: false })
    expect((ends[0] as LiveConnectionEnd).durationMs).toBeGreaterThanOrEqual(1000)
    const [txPart, opPart] = requests[1]!.searchParams.get('offset')!.split('_')
    expect(txPart).toBe(String(tx!.lsn))
    expect(Number(opPart)).toBeGreaterThan(0)

    server.source.insert('items', { id: 4, title: 'four' })
    await until(shape, () => shape.getSnapshot().data.length === 4)

    expect(delivered.filter(isChangeMessage).map((m) => `${m.headers.operation} ${m.key}`)).toEqual([
      'insert "public"."items"/"2"',
      'insert "public"."items"/"3"',
      'update "public"."items"/"1"',
      'insert "public"."items"/"4"',
    ])
    expect(requests.every((url) => url.searchParams.get('live_sse') === 'true')).toBe(true)
    expect(shape.getStatus()).toMatchObject({ transport: 'sse', fallbackReason: undefined })
    release()
  })

  it('keeps SSE when every connection starts behind the head: short responses that delivered changes are catch-ups, not a buffering proxy', async () => {
    server = createTestShapeServer({ tables: [ITEMS], sseTimeoutMs: 60_000 })
    const source = server.source
    let next = 10
    const ends: (LiveConnectionEnd | MustRefetch)[] = []
    // Before each SSE request a transaction is committed, so every request starts behind the head: the server sends
    // the catch-up and ends the response at once (a short connection that delivered a change).
    const behindRunner: LiveRunnerFactory = (context) => {
      const runner = sseRunner(context)
      return {
        ...runner,
        run: async (request, sink) => {
          if (ends.length < 6) source.insert('items', { id: next++, title: 'written between connections' })
          const end = await runner.run(request, sink)
          ends.push(end)
          return end
        },
      }
    }
    const fetch = server.fetch
    client = new ShapeClient({ fetch: (url, init) => fetch(url, init), liveSse: true, liveRunner: behindRunner, visibility: null })
    const shape = client.shape<{ id: number; title: string }>({ url: server.url, params: { table: 'items' } })
    const release = shape.retain()
    await shape.whenUpToDate()
    const fellBack = new Promise<void>((resolve) => {
      const stop = shape.subscribeStatus(() => {
        if (shape.getStatus().fallbackReason === undefined) return
        stop()
        resolve()
      })
    })
    await Promise.race([until(shape, () => shape.getSnapshot().data.length === 7), fellBack])
    expect(shape.getStatus().fallbackReason).toBeUndefined()
    const short = ends.filter((end) => end.kind === 'closed' && !end.aborted && end.durationMs < 1000)
    expect(short.length).toBeGreaterThanOrEqual(3)
    expect(shape.getStatus()).toMatchObject({ transport: 'sse', fallbackReason: undefined })
    release()
  })
})
