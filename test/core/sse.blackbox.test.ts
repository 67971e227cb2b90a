/**
 * Issue 4 read as a user would test it: only the public entries (`live-shapes/core`, `live-shapes/testing`), the
 * default SSE runner (loaded with `import()`), plain Node (no `document`, no `window`), and a `fetch` wrapper that
 * records every request and reads each SSE body as it passes (change events, keep-alives, how the body ended).
 * Every wait is on an event (a record, a status, a snapshot), bounded by `within`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ShapeClient, type Shape, type ShapeStatus, type VisibilityAdapter } from '../../src/core/index'
import { createTestShapeServer, type TestShapeServer, type TestShapeServerOptions } from '../../src/testing/index'
import { fakeVisibility } from './support/fakeAdapters'
import { ITEMS } from './support/itemsTable'

interface Item {
  id: number
  title: string
}


const WAIT_MS = 10_000

function within<T>(promise: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** One request through the tap. SSE fields are filled while its body is read. */
interface Tapped {
  readonly url: URL
  readonly accept: string | null
  readonly signal: AbortSignal | undefined
  readonly startedAt: number
  status?: number
  headers?: Headers
  sse: boolean
  /** `${operation} ${key} ${lsn}_${op_position}` of every change event, in order. */
  changes: string[]
  keepAlives: number
  /** How the body ended for the client: read to its end, cancelled by the reader, or failed. */
  ended?: 'done' | 'cancelled' | 'error'
  endedAt?: number
}

type Cut = (record: Tapped, body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> | null

interface Tap {
  fetch: typeof fetch
  records: Tapped[]
  /** Resolves with the first record (present or future) matching `match` once `done` holds for it. */
  waitFor(match: (record: Tapped) => boolean, label: string): Promise<Tapped>
  /** Hold requests matching `match` until the returned function is called. */
  hold(match: (url: URL) => boolean): { held: Promise<void>; release(): void }
  /** Replaces SSE bodies (a misbehaving proxy); `null` passes them on. */
  cut: Cut | undefined
}

const isSse = (url: URL): boolean => url.searchParams.get('live') === 'true' && url.searchParams.get('live_sse') === 'true'

function tap(inner: typeof fetch): Tap {
  const records: Tapped[] = []
  const waiters: (() => void)[] = []
  const notify = (): void => {
    for (const waiter of waiters.slice()) waiter()
  }
  let holdRule: { match: (url: URL) => boolean; gate: Promise<void>; onHeld: () => void } | undefined
  const decoder = new TextDecoder()

  const read = (record: Tapped, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
    const reader = body.getReader()
    let text = ''
    const end = (how: 'done' | 'cancelled' | 'error'): void => {
      if (record.ended !== undefined) return
      record.ended = how
      record.endedAt = Date.now()
      notify()
    }
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>
        try {
          chunk = await reader.read()
        } catch (error) {
          end('error')
          controller.error(error)
          return
        }
        if (chunk.done) {
          end('done')
          controller.close()
          return
        }
        text += decoder.decode(chunk.value, { stream: true })
        let cut = text.indexOf('\n\n')
        while (cut >= 0) {
          const event = text.slice(0, cut)
          text = text.slice(cut + 2)
          if (event.startsWith(':')) record.keepAlives++
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n')
          if (data !== '') {
            const message = JSON.parse(data) as { key?: string; headers: Record<string, unknown> }
            const { operation, lsn, op_position: op } = message.headers
            if (typeof operation === 'string') record.changes.push(`${operation} ${message.key} ${String(lsn)}_${String(op)}`)
          }
          cut = text.indexOf('\n\n')
        }
        controller.enqueue(chunk.value)
        notify()
      },
      cancel(reason) {
        end('cancelled')
        return reader.cancel(reason)
      },
    })
  }

  const self: Tap = {
    records,
    cut: undefined,
    fetch: async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
      const record: Tapped = {
        url,
        accept: new Headers(init?.headers).get('accept'),
        signal: init?.signal ?? undefined,
        startedAt: Date.now(),
        sse: false,
        changes: [],
        keepAlives: 0,
      }
      records.push(record)
      notify()
      const rule = holdRule
      if (rule !== undefined && rule.match(url)) {
        holdRule = undefined
        rule.onHeld()
        await rule.gate
      }
      const response = await inner(input, init)
      record.status = response.status
      record.headers = response.headers
      record.sse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
      notify()
      if (!record.sse || response.body === null) return response
      const replaced = self.cut?.(record, response.body) ?? response.body
      return new Response(read(record, replaced), { status: response.status, headers: response.headers })
    },
    waitFor(match, label) {
      return within(
        new Promise<Tapped>((resolve) => {
          const check = (): boolean => {
            const found = records.find(match)
            if (found === undefined) return false
            resolve(found)
            return true
          }
          if (check()) return
          const waiter = (): void => {
            if (check()) waiters.splice(waiters.indexOf(waiter), 1)
          }
          waiters.push(waiter)
        }),
        label,
      )
    },
    hold(match) {
      let release!: () => void
      let onHeld!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const held = new Promise<void>((resolve) => (onHeld = resolve))
      holdRule = { match, gate, onHeld }
      return { held: within(held, 'the held request'), release }
    },
  }
  return self
}

function untilStatus<T>(shape: Shape<T>, done: (status: ShapeStatus) => boolean, label: string): Promise<ShapeStatus> {
  return within(
    new Promise<ShapeStatus>((resolve) => {
      if (done(shape.getStatus())) return resolve(shape.getStatus())
      const stop = shape.subscribeStatus(() => {
        if (!done(shape.getStatus())) return
        stop()
        resolve(shape.getStatus())
      })
    }),
    label,
  )
}

function untilRows<T>(shape: Shape<T>, done: (rows: readonly T[]) => boolean, label: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      if (done(shape.getSnapshot().data)) return resolve()
      const stop = shape.subscribe(() => {
        if (!done(shape.getSnapshot().data)) return
        stop()
        resolve()
      })
    }),
    label,
  )
}

const titles = (rows: readonly Item[]): string =>
  [...rows]
    .sort((a, b) => a.id - b.id)
    .map((row) => `${row.id}:${row.title}`)
    .join(',')

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function setup(serverOptions: Omit<TestShapeServerOptions, 'tables'> = {}, clientOptions: { liveSse?: boolean; visibility?: VisibilityAdapter | null; gracePeriodMs?: number } = {}) {
  const server: TestShapeServer = createTestShapeServer({ tables: [ITEMS], ...serverOptions })
  const wire = tap(server.fetch)
  const client = new ShapeClient({ fetch: (input, init) => wire.fetch(input, init), visibility: null, ...clientOptions })
  cleanups.push(() => server.close())
  cleanups.push(() => client.dispose())
  return { server, wire, client }
}

describe('SSE through the public API, in plain Node', () => {
  it('runs with no DOM globals', () => {
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined')
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined')
  })

  it('is used for live requests only, with both SSE params and Accept: text/event-stream, as a client default a shape can turn off', async () => {
    const { server, wire, client } = setup({}, { liveSse: true })
    const sse = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    const off = client.shape<Item>({ url: server.url, params: { table: 'items', where: 'id > 0' }, liveSse: false })
    cleanups.push(sse.retain(), off.retain())
    await within(Promise.all([sse.whenUpToDate(), off.whenUpToDate()]), 'both shapes up to date')

    const first = await wire.waitFor((r) => r.url.searchParams.get('live') === 'true' && r.url.searchParams.get('where') === null, 'the first live request of the SSE shape')
    expect(first.url.searchParams.get('live_sse')).toBe('true')
    expect(first.url.searchParams.get('experimental_live_sse')).toBe('true')
    expect(first.accept).toBe('text/event-stream')
    await wire.waitFor((r) => r === first && r.sse, 'the SSE response')
    await untilStatus(sse, (s) => s.phase === 'live' && s.transport === 'sse', 'live over sse')

    // Initial sync and catch-up: never SSE.
    const nonLive = wire.records.filter((r) => r.url.searchParams.get('live') !== 'true')
    expect(nonLive.length).toBeGreaterThanOrEqual(2)
    for (const r of nonLive) {
      expect(r.url.searchParams.has('live_sse')).toBe(false)
      expect(r.url.searchParams.has('experimental_live_sse')).toBe(false)
      expect(r.accept).not.toBe('text/event-stream')
    }
    // The shape that opted out long-polls and says so, with no fallback reason.
    const offLive = await wire.waitFor((r) => r.url.searchParams.get('live') === 'true' && r.url.searchParams.get('where') !== null, 'the opted-out live request')
    expect(offLive.url.searchParams.has('live_sse')).toBe(false)
    expect(offLive.accept).not.toBe('text/event-stream')
    expect(off.getStatus()).toMatchObject({ transport: 'long-poll', fallbackReason: undefined })

    await server.insert('items', { id: 2, title: 'two' })
    await untilRows(sse, (rows) => rows.length === 2, 'the change over SSE')
    await untilRows(off, (rows) => rows.length === 2, 'the change over long-poll')
    expect(first.changes).toEqual([expect.stringMatching(/^insert "public"."items"\/"2" /)])
  })

  it('a shape turns SSE on by itself when the client default is off', async () => {
    const { server, wire, client } = setup()
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' }, liveSse: true })
    cleanups.push(shape.retain())
    await untilStatus(shape, (s) => s.phase === 'live' && s.transport === 'sse', 'live over sse')
    await wire.waitFor((r) => isSse(r.url) && r.sse, 'an SSE response')
  })

  it('a change committed between two connections arrives once, and the next connection resumes after the last change of its transaction with the same handle and the last cursor', async () => {
    // Streams end after 1.2 s: not short, and soon enough to reconnect within the test.
    const { server, wire, client } = setup({ sseTimeoutMs: 1200 }, { liveSse: true })
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    cleanups.push(shape.retain())
    const first = await wire.waitFor((r) => isSse(r.url) && r.sse, 'the first SSE response')
    await untilStatus(shape, (s) => s.phase === 'live' && s.transport === 'sse', 'live over sse')

    // Hold the second connection until a transaction touching several rows has committed.
    const gate = wire.hold((url) => isSse(url))
    await gate.held
    expect(first.ended).toBe('done')
    await server.transaction((tx) => {
      tx.insert('items', { id: 2, title: 'two' })
      tx.insert('items', { id: 3, title: 'three' })
      tx.update('items', { title: 'uno' }, { id: 1 })
    })
    gate.release()
    await untilRows(shape, (rows) => titles(rows) === '1:uno,2:two,3:three', 'the transaction')

    const sseRecords = (): Tapped[] => wire.records.filter((r) => isSse(r.url))
    const second = sseRecords()[1]!
    expect(second.url.searchParams.get('handle')).toBe(first.url.searchParams.get('handle'))
    expect(second.url.searchParams.get('cursor')).toBe(first.headers?.get('electric-cursor'))
    // The held connection started behind the head: the server sent the catch-up and ended it.
    await wire.waitFor((r) => r === second && r.ended === 'done', 'the catch-up response to end')
    expect(second.changes).toHaveLength(3)

    const third = await wire.waitFor((r) => isSse(r.url) && r !== first && r !== second, 'the connection after the catch-up')
    const lastChange = second.changes.at(-1)!.split(' ').at(-1)!
    expect(lastChange).not.toMatch(/_0$/)
    expect(third.url.searchParams.get('offset')).toBe(lastChange)
    expect(third.url.searchParams.get('handle')).toBe(first.url.searchParams.get('handle'))
    expect(third.url.searchParams.get('cursor')).toBe(second.headers?.get('electric-cursor'))

    await server.insert('items', { id: 4, title: 'four' })
    await untilRows(shape, (rows) => rows.length === 4, 'a change on the resumed connection')
    const all = wire.records.flatMap((r) => r.changes.map((change) => change.split(' ').slice(0, 2).join(' ')))
    expect(all).toEqual(['insert "public"."items"/"2"', 'insert "public"."items"/"3"', 'update "public"."items"/"1"', 'insert "public"."items"/"4"'])
    expect(shape.getStatus()).toMatchObject({ transport: 'sse', fallbackReason: undefined })
  })

  it('keep-alives keep a quiet connection open past the heartbeat bound; without them it is cut and, three times over, falls back', async () => {
    const { server, wire, client } = setup({ keepAliveMs: 100, sseTimeoutMs: 1500 }, { liveSse: true })
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' }, liveRequestTimeoutMs: 500 })
    cleanups.push(shape.retain())
    const first = await wire.waitFor((r) => isSse(r.url) && r.ended !== undefined, 'the first SSE connection to end')
    expect(first.ended).toBe('done')
    expect(first.endedAt! - first.startedAt).toBeGreaterThanOrEqual(1400)
    expect(first.keepAlives).toBeGreaterThanOrEqual(3)
    expect(shape.getStatus()).toMatchObject({ phase: 'live', transport: 'sse', fallbackReason: undefined, error: undefined })

    // Control: a server that sends no keep-alive within the bound.
    const quiet = setup({ keepAliveMs: 60_000, sseTimeoutMs: 60_000 }, { liveSse: true })
    const silent = quiet.client.shape<Item>({ url: quiet.server.url, params: { table: 'items' }, liveRequestTimeoutMs: 300 })
    cleanups.push(silent.retain())
    const cut = await quiet.wire.waitFor((r) => isSse(r.url) && r.ended !== undefined, 'the silent connection to be cut')
    expect(cut.ended).toBe('cancelled')
    const fallen = await untilStatus(silent, (s) => s.transport === 'long-poll', 'the fallback')
    expect(fallen.fallbackReason).toEqual(expect.any(String))
    await quiet.server.insert('items', { id: 2, title: 'two' })
    await untilRows(silent, (rows) => rows.length === 2, 'a change by long-poll')
  })

  it('a proxy ending every SSE response at once: exactly three tries, then long-polling with the reason in the status; a 409 re-enables SSE', async () => {
    const { server, wire, client } = setup({}, { liveSse: true })
    // The proxy forwards the headers and ends the body at once, dropping whatever the server would send.
    wire.cut = (_record, body) => {
      void body.cancel()
      return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
    }
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    const statuses: ShapeStatus[] = []
    cleanups.push(shape.subscribeStatus(() => statuses.push(shape.getStatus())))
    cleanups.push(shape.retain())
    const fallen = await untilStatus(shape, (s) => s.transport === 'long-poll' && s.phase === 'live', 'the fallback')
    expect(fallen.fallbackReason).toMatch(/SSE/)
    const longPoll = await wire.waitFor((r) => r.url.searchParams.get('live') === 'true' && !isSse(r.url), 'a live long-poll')
    const sseBefore = wire.records.filter((r) => isSse(r.url))
    expect(sseBefore).toHaveLength(3)
    expect(sseBefore.every((r) => r.sse && r.ended === 'done')).toBe(true)
    expect(wire.records.indexOf(longPoll)).toBeGreaterThan(wire.records.indexOf(sseBefore[2]!))
    expect(statuses.some((s) => s.transport === 'sse')).toBe(true)

    await server.insert('items', { id: 2, title: 'two' })
    await untilRows(shape, (rows) => rows.length === 2, 'a change by long-poll')
    expect(wire.records.filter((r) => isSse(r.url))).toHaveLength(3)

    // The path is fixed, the shape is deleted upstream: the 409 tries SSE again.
    wire.cut = undefined
    const deleted = await server.fetch(`${server.url}?table=items`, { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    await untilStatus(shape, (s) => s.phase === 'live' && s.transport === 'sse' && s.fallbackReason === undefined, 'sse again after the 409')
    await server.insert('items', { id: 3, title: 'three' })
    await untilRows(shape, (rows) => rows.length === 3, 'a change over SSE after the 409')
    const last = wire.records.filter((r) => isSse(r.url)).at(-1)!
    expect(last.changes).toEqual([expect.stringMatching(/^insert "public"."items"\/"3" /)])
  })

  it.each([
    ['the array body', '[{"headers":{"control":"must-refetch"}}]'],
    ['the older single-object body', '{"headers":{"control":"must-refetch"}}'],
  ])('a 409 to an SSE request with %s refetches as long-poll mode does: rows kept meanwhile, a non-live snapshot, then SSE again', async (_name, body) => {
    const { server, wire, client } = setup({}, { liveSse: true })
    const inner = wire.fetch
    wire.fetch = async (input, init) => {
      const response = await inner(input, init)
      if (response.status !== 409) return response
      await response.body?.cancel()
      return new Response(body, { status: 409, headers: response.headers })
    }
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    cleanups.push(shape.retain())
    const published: string[] = []
    cleanups.push(shape.subscribe(() => published.push(titles(shape.getSnapshot().data))))
    const open = await wire.waitFor((r) => isSse(r.url) && r.sse, 'the SSE response')
    await untilStatus(shape, (s) => s.phase === 'live' && s.transport === 'sse', 'live over sse')
    const before = shape.getStatus().handle

    // The shape is deleted upstream, and a row written, while the stream is held: the next SSE request gets a 409.
    const deleted = await server.fetch(`${server.url}?table=items`, { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    await wire.waitFor((r) => r === open && r.ended !== undefined, 'the stream to end')
    await server.insert('items', { id: 2, title: 'two' })
    await untilStatus(shape, (s) => s.phase === 'live' && s.handle !== before, 'live on the new handle')
    await untilRows(shape, (rows) => titles(rows) === '1:one,2:two', 'the refetched rows')

    const conflict = wire.records.find((r) => r.status === 409)!
    expect(isSse(conflict.url)).toBe(true)
    const refetch = wire.records[wire.records.indexOf(conflict) + 1]!
    expect(refetch.url.searchParams.get('offset')).toBe('-1')
    expect(refetch.url.searchParams.get('live')).toBeNull()
    expect(refetch.url.searchParams.get('expired_handle')).toBe(before)
    // Never an empty or partial shape in between.
    expect(published.every((state) => state === '1:one' || state === '1:one,2:two')).toBe(true)
    await untilStatus(shape, (s) => s.phase === 'live' && s.transport === 'sse', 'sse on the new handle')
    await wire.waitFor((r) => wire.records.indexOf(r) > wire.records.indexOf(refetch) && isSse(r.url) && r.sse, 'SSE on the new handle')
  })

  it('release after the grace period, dispose and a hidden page each close the SSE response at once', async () => {
    const { visibility, setHidden, listeners } = fakeVisibility()
    const { server, wire, client } = setup({}, { liveSse: true, visibility, gracePeriodMs: 50 })
    const shape = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    const release = shape.retain()

    // Hidden: the open response is aborted in the same turn, and nothing is requested while hidden.
    const open = await wire.waitFor((r) => isSse(r.url) && r.sse, 'an open SSE response')
    await wire.waitFor((r) => r === open && r.changes.length === 0 && r.ended === undefined, 'the stream held')
    setHidden(true)
    expect(open.signal?.aborted).toBe(true)
    await wire.waitFor((r) => r === open && r.ended !== undefined, 'the hidden page to close the body')
    expect(open.ended).toBe('cancelled')
    expect(listeners.size).toBe(1)
    await untilStatus(shape, (s) => s.phase === 'paused', 'paused')
    const whileHidden = wire.records.length
    await server.insert('items', { id: 2, title: 'two' })

    // Visible: one non-live catch-up, then SSE again.
    setHidden(false)
    await untilRows(shape, (rows) => rows.length === 2, 'the catch-up')
    const next = wire.records.slice(whileHidden)
    expect(next[0]!.url.searchParams.get('live')).toBeNull()
    const reopened = await wire.waitFor((r) => wire.records.indexOf(r) > whileHidden && isSse(r.url) && r.sse, 'SSE again')

    // Release: after the grace period the response is closed and the visibility listener removed.
    release()
    await wire.waitFor((r) => r === reopened && r.ended !== undefined, 'the release to close the body')
    expect(reopened.ended).toBe('cancelled')
    expect(reopened.signal?.aborted).toBe(true)
    expect(listeners.size).toBe(0)
    expect(client.size).toBe(0)

    // Dispose: closes an open response synchronously.
    const again = client.shape<Item>({ url: server.url, params: { table: 'items' } })
    cleanups.push(again.retain())
    const third = await wire.waitFor((r) => wire.records.indexOf(r) > wire.records.indexOf(reopened) && isSse(r.url) && r.sse, 'a third SSE response')
    client.dispose()
    expect(third.signal?.aborted).toBe(true)
    await wire.waitFor((r) => r === third && r.ended !== undefined, 'dispose to close the body')
    expect(listeners.size).toBe(0)
  })
})
