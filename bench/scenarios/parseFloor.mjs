/**
 * Scenario (d): the floor. The same snapshot requests as a client makes (following `electric-offset` to the first
 * up-to-date), with nothing but `JSON.parse` on each body: `fetchParseMs` is the network + parse floor of an
 * initial sync (`fetchParseCpuMs` the process CPU time over it); `parseMs` is `JSON.parse` alone over the same bytes,
 * already in memory.
 */
import { dropTable, prepareTable } from '../probe.mjs'

export async function parseFloor({ url, rows, table }) {
  const info = await prepareTable(url, table, rows)
  const texts = []
  let parsedMessages = 0
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  let offset = '-1'
  let handle
  for (;;) {
    const query = new URLSearchParams({ table, offset })
    if (handle) query.set('handle', handle)
    const response = await fetch(`${url}/v1/shape?${query}`)
    if (response.status !== 200) throw new Error(`floor: status ${response.status}`)
    const text = await response.text()
    parsedMessages += JSON.parse(text).length
    texts.push(text)
    handle = response.headers.get('electric-handle')
    offset = response.headers.get('electric-offset')
    if (response.headers.has('electric-up-to-date')) break
  }
  const fetchParseMs = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  const parseStart = performance.now()
  let again = 0
  for (const text of texts) again += JSON.parse(text).length
  const parseMs = performance.now() - parseStart
  if (again !== parsedMessages || parsedMessages < rows) throw new Error('floor: message count mismatch')
  await dropTable(url, table)
  return { fetchParseMs, fetchParseCpuMs: (cpu.user + cpu.system) / 1000, parseMs, bytesMB: texts.reduce((sum, t) => sum + t.length, 0) / 2 ** 20, requests: texts.length, chunks: info.chunks }
}
