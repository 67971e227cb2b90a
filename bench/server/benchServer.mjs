/**
 * The bench's shape server: `/v1/shape` over `BenchTable`s (snapshot chunks, catch-up, live long-poll and SSE),
 * plus a control API the bench processes drive (`/_bench/prepare`, `/_bench/commit`, `/_bench/drop`).
 *
 * Rules:
 * - Headers as SHAPE-PROTOCOL §2: every 2xx carries `electric-handle` and `electric-offset`; non-live 200s
 *   carry `electric-schema`; live responses carry `electric-cursor`; `electric-up-to-date` iff the body ends with
 *   an `up-to-date` message; `offset=-1` responses are never up to date.
 * - A request with a stale handle gets a 409 `[must-refetch]` with the current handle (§6).
 * - A live SSE request behind the head gets the catch-up batch and the stream closes; at the head it stays
 *   open and gets every committed transaction as its changes followed by one `up-to-date` event (§5.1).
 * - Nothing is computed per request that `prepare` could have done: the server must never be what is timed.
 */
import http from 'node:http'
import { BENCH_SCHEMA } from './benchRows.mjs'
import { BenchTable, compareOffsets, formatOffset, parseOffset } from './benchTable.mjs'

const SCHEMA_HEADER = JSON.stringify(BENCH_SCHEMA)
const EXPOSE = 'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after'
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9)

function upToDateJson(lsn) {
  return JSON.stringify({ headers: { control: 'up-to-date', global_last_seen_lsn: String(lsn) } })
}

function nextCursor(requested, now, longPollSeconds) {
  const elapsed = Math.ceil((now - CURSOR_EPOCH_MS) / 1000)
  const cursor = Math.ceil(elapsed / longPollSeconds) * longPollSeconds
  const previous = Number(requested)
  return String(Number.isFinite(previous) && cursor <= previous ? previous + 1 : cursor)
}

/**
 * Creates the bench server (not yet listening).
 * @param {{ chunkBytes?: number, longPollMs?: number, sseTimeoutMs?: number, keepAliveMs?: number }} [options]
 */
export function createBenchServer(options = {}) {
  const chunkBytes = options.chunkBytes ?? 10 * 1024 * 1024
  const longPollMs = options.longPollMs ?? 20_000
  const sseTimeoutMs = options.sseTimeoutMs ?? 60_000
  const keepAliveMs = options.keepAliveMs ?? 21_000
  /** @type {Map<string, BenchTable>} */
  const tables = new Map()
  const liveResponses = new Set()

  function json(res, status, body, headers = {}) {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }

  function baseHeaders(table, requestedOffset, responseOffset) {
    return {
      'electric-server': 'live-shapes-bench/0',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSE,
      'electric-handle': table.handle,
      'electric-offset': responseOffset,
      'electric-has-data': 'true',
      etag: `"${table.handle}:${requestedOffset}:${responseOffset}"`,
    }
  }

  function sendBody(res, headers, parts) {
    const body = Buffer.concat(parts)
    res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': body.length })
    res.end(body)
  }

  function serveSnapshotChunk(res, table, index, requestedOffset) {
    const isLast = index === table.chunks.length - 1
    const endOffset = isLast ? '0_inf' : `0_${index}`
    const headers = {
      ...baseHeaders(table, requestedOffset, endOffset),
      'electric-schema': SCHEMA_HEADER,
      'cache-control': requestedOffset === '-1'
        ? 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746'
        : 'public, max-age=60, stale-while-revalidate=300',
    }
    const parts = [Buffer.from('['), table.chunks[index]]
    if (isLast && requestedOffset !== '-1' && table.log.length === 0) {
      headers['electric-up-to-date'] = ''
      parts.push(Buffer.from(`,${upToDateJson(0)}`))
    }
    parts.push(Buffer.from(']'))
    sendBody(res, headers, parts)
  }

  function logBody(entries, lsn) {
    const messages = entries.map((entry) => entry.json)
    messages.push(upToDateJson(lsn))
    return Buffer.from(`[${messages.join(',')}]`)
  }

  function serveLog(res, table, offset, requestedOffset, live, cursorParam) {
    const entries = table.entriesAfter(offset)
    const end = entries.length > 0 ? entries.at(-1).offset : offset
    const headers = { ...baseHeaders(table, requestedOffset, formatOffset(end)), 'electric-up-to-date': '' }
    if (live) {
      headers['electric-cursor'] = nextCursor(cursorParam, Date.now(), longPollMs / 1000)
      headers['cache-control'] = 'public, max-age=5, stale-while-revalidate=5'
    } else {
      headers['electric-schema'] = SCHEMA_HEADER
      headers['cache-control'] = 'public, max-age=60, stale-while-revalidate=300'
    }
    sendBody(res, headers, [logBody(entries, end.tx)])
  }

  function serveLongPoll(req, res, table, offset, requestedOffset, cursorParam) {
    liveResponses.add(res)
    let timer
    const cancel = table.waitForCommit(() => {
      clearTimeout(timer)
      liveResponses.delete(res)
      serveLog(res, table, offset, requestedOffset, true, cursorParam)
    })
    timer = setTimeout(() => {
      cancel()
      liveResponses.delete(res)
      const body = Buffer.from(`[${upToDateJson(table.head.tx)}]`)
      const headers = {
        ...baseHeaders(table, requestedOffset, requestedOffset),
        etag: `"${table.handle}:${requestedOffset}:${requestedOffset}:${Date.now()}"`,
        'electric-has-data': 'false',
        'electric-up-to-date': '',
        'electric-cursor': nextCursor(cursorParam, Date.now(), longPollMs / 1000),
        'cache-control': 'public, max-age=5, stale-while-revalidate=5',
      }
      sendBody(res, headers, [body])
    }, longPollMs)
    res.on('close', () => {
      clearTimeout(timer)
      cancel()
      liveResponses.delete(res)
    })
  }

  function serveSse(req, res, table, offset, requestedOffset, cursorParam) {
    const behind = table.entriesAfter(offset)
    const headers = {
      ...baseHeaders(table, requestedOffset, formatOffset(table.head)),
      'content-type': 'text/event-stream',
      connection: 'keep-alive',
      'cache-control': `public, max-age=${Math.max(1, Math.floor(sseTimeoutMs / 1000) - 1)}`,
      'electric-cursor': nextCursor(cursorParam, Date.now(), longPollMs / 1000),
    }
    if (behind.length === 0) headers['electric-up-to-date'] = ''
    res.writeHead(200, headers)
    const writeBatch = (entries) => {
      if (entries.length === 0) return
      let text = ''
      for (const entry of entries) text += `data: ${entry.json}\n\n`
      text += `data: ${upToDateJson(entries.at(-1).offset.tx)}\n\n`
      res.write(text)
    }
    if (behind.length > 0) {
      writeBatch(behind)
      res.end()
      return
    }
    liveResponses.add(res)
    let position = offset
    let cancel = () => {}
    let keepAlive
    const armKeepAlive = () => {
      clearTimeout(keepAlive)
      keepAlive = setTimeout(() => {
        res.write(': keep-alive\n\n')
        armKeepAlive()
      }, keepAliveMs)
    }
    const listen = () => {
      cancel = table.waitForCommit(() => {
        const entries = table.entriesAfter(position)
        if (entries.length > 0) position = entries.at(-1).offset
        writeBatch(entries)
        armKeepAlive()
        listen()
      })
    }
    listen()
    armKeepAlive()
    const lifetime = setTimeout(() => res.end(), sseTimeoutMs)
    res.on('close', () => {
      cancel()
      clearTimeout(keepAlive)
      clearTimeout(lifetime)
      liveResponses.delete(res)
    })
  }

  function serveShape(req, res, url) {
    const params = url.searchParams
    const table = tables.get(params.get('table') ?? '')
    if (!table) {
      json(res, 400, { message: 'Invalid request', errors: { table: [`Table "public"."${params.get('table')}" does not exist.`] } }, { 'cache-control': 'no-store' })
      return
    }
    const requestedOffset = params.get('offset')
    const liveValue = params.get('live')
    const live = liveValue !== null && liveValue !== 'false'
    const sseValue = params.get('live_sse') ?? params.get('experimental_live_sse')
    const sse = sseValue !== null && sseValue !== 'false'
    if (requestedOffset === '-1') {
      if (live) return json(res, 400, { message: 'Invalid request', errors: { live: ["can't be true when offset == -1"] } })
      return serveSnapshotChunk(res, table, 0, requestedOffset)
    }
    const offset = requestedOffset === null ? undefined : parseOffset(requestedOffset)
    if (!offset) return json(res, 400, { message: 'Invalid request', errors: { offset: ['has invalid format'] } })
    if (params.get('handle') !== table.handle) {
      res.writeHead(409, {
        'content-type': 'application/json; charset=utf-8',
        'electric-handle': table.handle,
        'cache-control': 'public, max-age=60, must-revalidate',
        'access-control-expose-headers': EXPOSE,
      })
      res.end(JSON.stringify([{ headers: { control: 'must-refetch' } }]))
      return
    }
    if (offset.tx === 0 && offset.op !== Infinity) {
      const next = offset.op + 1
      if (next >= table.chunks.length) return json(res, 400, { message: 'Invalid request', errors: { offset: ['out of bounds for this shape'] } })
      return serveSnapshotChunk(res, table, next, requestedOffset)
    }
    if (compareOffsets(offset, table.head) > 0) {
      return json(res, 400, { message: 'Invalid request', errors: { offset: ['out of bounds for this shape'] } })
    }
    const cursorParam = params.get('cursor')
    if (live && sse) return serveSse(req, res, table, offset, requestedOffset, cursorParam)
    if (live && compareOffsets(offset, table.head) === 0) return serveLongPoll(req, res, table, offset, requestedOffset, cursorParam)
    return serveLog(res, table, offset, requestedOffset, live, cursorParam)
  }

  function serveControl(res, url) {
    const params = url.searchParams
    const name = params.get('table') ?? ''
    switch (url.pathname) {
      case '/_bench/prepare': {
        const rows = Number(params.get('rows'))
        let table = tables.get(name)
        if (!table || table.rows !== rows) {
          table = new BenchTable(name, rows, Number(params.get('chunkBytes') ?? chunkBytes))
          tables.set(name, table)
        }
        return json(res, 200, { table: name, rows, handle: table.handle, chunks: table.chunks.length, snapshotBytes: table.snapshotBytes })
      }
      case '/_bench/commit': {
        const table = tables.get(name)
        if (!table) return json(res, 404, { message: 'no such table' })
        const ids = params.get('ids')?.split(',').map(Number)
        return json(res, 200, table.commit(Number(params.get('size') ?? '1'), ids))
      }
      case '/_bench/waiters': {
        const table = tables.get(name)
        return json(res, 200, { waiters: table ? table.waiterCount : 0 })
      }
      case '/_bench/drop': {
        tables.delete(name)
        return json(res, 200, { dropped: name })
      }
      default:
        return json(res, 404, { message: 'Not found' })
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench.local')
    if (url.pathname === '/v1/shape' && (req.method === 'GET' || req.method === 'HEAD')) return serveShape(req, res, url)
    if (url.pathname.startsWith('/_bench/')) return serveControl(res, url)
    json(res, 404, { message: 'Not found' })
  })
  server.keepAliveTimeout = 65_000
  return {
    server,
    tables,
    /** Ends held live responses so `server.close()` can finish. */
    closeLive() {
      for (const res of liveResponses) res.end()
      liveResponses.clear()
    },
  }
}
