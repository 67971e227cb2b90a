/**
 * Scenario (b): live throughput with `rows` rows materialized. The server commits `transactions` scripted
 * transactions of `txSize` single-row updates, one after the other: each commit is requested only once the
 * client has published the previous one (its last row shows the transaction's marker), so `ms / transactions`
 * is the end-to-end cost of one transaction (commit -> wake -> response -> parse -> apply -> notify).
 *
 * `clientMs` isolates the client's share: from the first body bytes of the live response (long-poll) or SSE event
 * that carries the transaction reaching the client's `fetch` body to the client publishing it. Bytes are
 * timestamped by a pass-through stream wrapped around every live response body, on both sides alike.
 *
 * `cpuProfile` (a file, by hand): a CPU profile of the transactions only (sync excluded).
 *
 * Waiting for the client's live request to be parked before the first commit is done by polling the server's
 * waiter count: this is a bench, not a test, and it is outside the timed section.
 */
import { dropTable, keyOf, prepareTable } from '../probe.mjs'

async function untilParked(url, table) {
  for (let i = 0; i < 2000; i++) {
    const { waiters } = await (await fetch(`${url}/_bench/waiters?table=${table}`)).json()
    if (waiters > 0) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  throw new Error('live request never parked')
}

/** A `fetch` whose live response bodies record when each chunk of bytes arrived. */
function stampingFetch(arrivals) {
  return async (input, init) => {
    const response = await fetch(input, init)
    if (!String(input).includes('live=true') || response.body === null) return response
    const stamp = new TransformStream({
      transform(chunk, controller) {
        arrivals.push(performance.now())
        controller.enqueue(chunk)
      },
    })
    return new Response(response.body.pipeThrough(stamp), { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}

export async function liveThroughput({ adapter, url, rows, table, mode, transactions = 100, txSize = 100, readSnapshot = true, cpuProfile }) {
  await prepareTable(url, table, rows)
  const arrivals = []
  const shape = await adapter.openShape({ url, table, fetch: stampingFetch(arrivals), liveSse: mode === 'sse', readSnapshot })
  await untilParked(url, table)
  let expected
  let resolveApplied
  const unsubscribe = shape.onChange(() => {
    if (expected && shape.getRow(expected.lastKey)?.priority === expected.marker) {
      expected = undefined
      resolveApplied(performance.now())
    }
  })
  const perTx = []
  const clientMs = []
  let profiler
  if (cpuProfile) {
    const { Session } = await import('node:inspector/promises')
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 })
    await profiler.post('Profiler.start')
  }
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  for (let t = 0; t < transactions; t++) {
    const txStart = performance.now()
    const applied = new Promise((resolve) => {
      resolveApplied = resolve
    })
    const response = await fetch(`${url}/_bench/commit?table=${table}&size=${txSize}`, { method: 'POST' })
    const info = await response.json()
    if (shape.getRow(info.lastKey)?.priority === info.marker) resolveApplied(performance.now())
    else expected = info
    const appliedAt = await applied
    perTx.push(performance.now() - txStart)
    const arrived = arrivals.find((at) => at >= txStart)
    if (arrived !== undefined && arrived <= appliedAt) clientMs.push(appliedAt - arrived)
  }
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(cpuProfile, JSON.stringify(profile))
    profiler.disconnect()
  }
  unsubscribe()
  if (shape.size() !== rows) throw new Error(`${adapter.name}: ${shape.size()} rows after live updates, expected ${rows}`)
  const sample = shape.getRow(keyOf(table, 1))
  if (typeof sample?.id !== 'bigint') throw new Error(`${adapter.name}: rows lost their types`)
  shape.close()
  await dropTable(url, table)
  perTx.sort((a, b) => a - b)
  clientMs.sort((a, b) => a - b)
  return {
    ms,
    perTxMs: ms / transactions,
    p50TxMs: perTx[perTx.length >> 1],
    p95TxMs: perTx[Math.floor(perTx.length * 0.95)],
    updatesPerSec: (transactions * txSize) / (ms / 1000),
    clientP50Ms: clientMs[clientMs.length >> 1],
    clientTotalMs: clientMs.reduce((sum, v) => sum + v, 0),
    clientSamples: clientMs.length,
    // CPU time of this process per transaction (all threads, the harness's commit requests included, the same on
    // both sides): what waiting for a core on a loaded machine does not inflate.
    cpuPerTxMs: (cpu.user + cpu.system) / 1000 / transactions,
  }
}
