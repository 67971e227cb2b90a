/**
 * What the `lazyJson` option buys, by payload: `node bench/lazyJson.mjs [--rows N]`.
 *
 * For two payloads (the bench table's ~120-byte jsonb of short, repeated words, and a ~600-byte jsonb of unique
 * strings and nested objects, closer to app data), parses 100,000 insert messages with our parser into a
 * `ShapeStore` and reports, per mode (eager / lazyJson), the time to parse and apply, the retained bytes per row, and
 * the retained bytes per row after every payload was read once. Each measurement runs in a fresh process with
 * `--expose-gc`; the messages are built before the timer from JSON text, as a response body would be.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildOurs } from './buildOurs.mjs'
import { benchRow } from './server/benchRows.mjs'

const args = process.argv.slice(2)
const rowsArg = args.indexOf('--rows')
const ROWS = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 100_000

const schema = {
  id: { type: 'int8', pk_index: 0, not_null: true },
  title: { type: 'text' },
  priority: { type: 'int4' },
  done: { type: 'bool' },
  payload: { type: 'jsonb' },
}

/** A deterministic ~600-byte payload whose strings are unique per row. */
function richPayload(i) {
  return JSON.stringify({
    owner: { id: `user-${i}`, name: `Person ${i.toString(36)} ${(i * 7919).toString(36)}` },
    note: `Follow up on order ${i} with the customer; last contact ${(i * 31) % 97} days ago.`,
    items: Array.from({ length: 5 }, (_, j) => ({ sku: `sku-${i}-${j}`, qty: (i + j) % 9, price: ((i * 13 + j) % 1000) / 10 })),
    history: Array.from({ length: 3 }, (_, j) => ({ at: `2026-0${1 + j}-1${j}T10:00:00Z`, by: `agent-${(i + j) % 50}` })),
  })
}

function messagesText(payload, rows) {
  const parts = []
  for (let i = 1; i <= rows; i++) {
    const value = benchRow(i)
    if (payload === 'rich') value.payload = richPayload(i)
    parts.push(JSON.stringify({ key: `"public"."t"/"${i}"`, value, headers: { operation: 'insert', relation: ['public', 't'] } }))
  }
  parts.push(JSON.stringify({ headers: { control: 'up-to-date', global_last_seen_lsn: '1' } }))
  return `[${parts.join(',')}]`
}

async function measure({ payload, lazyJson, rows }) {
  const { createMessageParser, ShapeStore } = await import(new URL('./.build/ours.mjs', import.meta.url).href)
  // Full collections in separate macrotasks: V8 frees some memory (large strings, weak cells) only between tasks.
  const gc = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      globalThis.gc()
    }
  }
  const parser = createMessageParser(schema, { lazyJson })
  const store = new ShapeStore()
  await gc()
  const baseline = process.memoryUsage().heapUsed
  const body = { text: messagesText(payload, rows) }
  const start = performance.now()
  store.applyBatch(parser.parseMessages(JSON.parse(body.text)))
  const ms = performance.now() - start
  // The body's text is garbage after a real sync: drop it before measuring what the rows retain.
  body.text = ''
  await gc()
  const retained = process.memoryUsage().heapUsed - baseline
  let owners = 0
  for (const row of store.getSnapshot().rows.values()) if (row.payload !== null && typeof row.payload === 'object') owners++
  if (owners !== rows) throw new Error(`read ${owners} payloads, expected ${rows}`)
  await gc()
  const afterRead = process.memoryUsage().heapUsed - baseline
  // Read the store after the last measurement, so it is alive (and counted) at every one.
  if (store.getSnapshot().rows.size !== rows) throw new Error('store lost rows')
  return { ms, retainedBytesPerRow: retained / rows, afterReadBytesPerRow: afterRead / rows }
}

function inChild(job) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(job)], {
      execArgv: ['--expose-gc', '--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    })
    child.on('message', (message) => (message.ok ? resolve(message.result) : reject(new Error(message.error))))
    child.on('exit', (code) => code !== 0 && reject(new Error(`child exited with ${code}`)))
  })
}

if (args[0] === '--child') {
  measure(JSON.parse(args[1])).then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (error) => process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1)),
  )
} else {
  await buildOurs()
  const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 0 })
  const lines = [
    `lazyJson, ${ROWS.toLocaleString('en-US')} rows parsed and applied to a ShapeStore (node ${process.version}):`,
    '',
    '| payload | mode | parse + apply (ms) | retained bytes/row | after reading every payload |',
    '|---|---|---|---|---|',
  ]
  for (const payload of ['bench', 'rich']) {
    for (const lazyJson of [false, true]) {
      const result = await inChild({ payload, lazyJson, rows: ROWS })
      lines.push(`| ${payload === 'bench' ? 'bench table (~120 B, repeated words)' : 'rich (~600 B, unique strings)'} | ${lazyJson ? 'lazyJson' : 'eager'} | ${fmt(result.ms)} | ${fmt(result.retainedBytesPerRow)} | ${fmt(result.afterReadBytesPerRow)} |`)
    }
  }
  console.log(lines.join('\n'))
}
