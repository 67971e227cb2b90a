/**
 * Where an initial sync's time goes, without network: `node bench/syncParts.mjs [--rows N] [--reps R] [--modes a,b]`.
 *
 * Builds the bench table's snapshot bodies (10 MiB chunks of insert messages, as `bench/server` serves them) in
 * memory, then, each mode in a fresh process (`--expose-gc`), times reading them the way a sync does, cumulatively:
 * - `parse`: `TextDecoder` + one `JSON.parse` per body (the floor's parse);
 * - `split`: `readMessageArray` over the body in 64 KiB network chunks, groups taken and dropped;
 * - `values`: `split` + the schema's value parsers on every row (`parseMessages`);
 * - `stage`: `values` + staging into a `ShapeStore`, settle and publish (what a sync does, minus fetch and yielding);
 * - `sliced`: `stage` with the default yielder instead of `neverYield` (what yielding costs, without network);
 * - `ideal`: `parse` + the bench schema's value parsers written inline + one `Map.set` per row: the least an eager
 *   client can do, to read `stage` against.
 * GC time (from `perf_hooks` gc entries) is reported apart. Modes alternate across repetitions; medians are printed.
 * Core internals are bundled from `src/core` by esbuild (into `bench/.build/parts-<name>.mjs`); `--src a=dir,b=dir`
 * compares builds of several `src/` trees; `--phases` times the value parsers and the staging alone (see `phases`).
 */
import { fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BENCH_SCHEMA, snapshotInsertJson } from './server/benchRows.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index >= 0 ? args[index + 1] : fallback
}
const ROWS = Number(option('rows', '100000'))
const REPS = Number(option('reps', '5'))
const MODES = option('modes', 'parse,split,values,stage,ideal').split(',')
const CHUNK_BYTES = 10 * 2 ** 20
const NET_CHUNK = 64 * 1024

/** `--src name=dir,…`: compare builds of several `src/` trees (e.g. a `git worktree` of the base commit). */
const VARIANTS = option('src', `here=${join(here, '..', 'src')}`).split(',').map((entry) => {
  const [name, dir] = entry.split('=')
  return { name, dir }
})

async function buildParts({ name, dir }) {
  const esbuild = await import('esbuild')
  const entry = join(here, `.build/parts-entry-${name}.mjs`)
  const { writeFileSync, mkdirSync } = await import('node:fs')
  mkdirSync(join(here, '.build'), { recursive: true })
  const src = (file) => JSON.stringify(join(dir, 'core', file))
  writeFileSync(entry, [
    `export { readMessageArray } from ${src('messageArray.ts')}`,
    `export { createMessageParser } from ${src('parse.ts')}`,
    `export { ShapeStore } from ${src('shapeStore.ts')}`,
    `export { createYielder, neverYield } from ${src('yielder.ts')}`,
  ].join('\n'))
  await esbuild.build({ entryPoints: [entry], outfile: join(here, `.build/parts-${name}.mjs`), bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', logLevel: 'silent' })
}

/** The snapshot bodies of `rows` rows, cut like bench/server's chunks (the last one ends with up-to-date). */
function bodies(rows) {
  const out = []
  let parts = []
  let bytes = 0
  for (let i = 1; i <= rows; i++) {
    const json = snapshotInsertJson('t0_0000', i)
    parts.push(json)
    bytes += json.length + 1
    if (bytes >= CHUNK_BYTES) {
      out.push(`[${parts.join(',')}]`)
      parts = []
      bytes = 0
    }
  }
  parts.push(JSON.stringify({ headers: { control: 'up-to-date', global_last_seen_lsn: '1' } }))
  out.push(`[${parts.join(',')}]`)
  return out.map((text) => new TextEncoder().encode(text))
}

function streamOf(bytes) {
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(offset, offset + NET_CHUNK))
      offset += NET_CHUNK
    },
  }, { highWaterMark: 0 })
}

async function measure(mode, variant) {
  const { readMessageArray, createMessageParser, ShapeStore, neverYield, createYielder } = await import(new URL(`./.build/parts-${variant}.mjs`, import.meta.url).href)
  const { PerformanceObserver } = await import('node:perf_hooks')
  const data = bodies(ROWS)
  globalThis.gc()
  await new Promise((resolve) => setImmediate(resolve))
  let gcMs = 0
  let gcCount = 0
  let gcLongest = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      gcCount++
      gcLongest = Math.max(gcLongest, entry.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  const parser = createMessageParser(BENCH_SCHEMA)
  const store = new ShapeStore()
  const rows = new Map()
  // `sliced`: `stage` reading with the default yielder (5 ms slices), as a sync does.
  // PARTS_SCHEDULE=immediate: slices scheduled with setImmediate instead of the platform default (MessageChannel in Node).
  const schedule = process.env.PARTS_SCHEDULE === 'immediate' ? () => new Promise((resolve) => setImmediate(resolve)) : undefined
  const yielder = mode === 'sliced' ? createYielder(schedule ? { schedule } : {}) : neverYield
  if (mode === 'sliced') mode = 'stage'
  const signal = new AbortController().signal
  let count = 0
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  for (const bytes of data) {
    if (mode === 'parse') {
      count += JSON.parse(new TextDecoder().decode(bytes)).length
      continue
    }
    if (mode === 'ideal') {
      // The least any eager client must do: the floor's parse, the bench schema's value parsers written inline, a Map.
      const messages = JSON.parse(new TextDecoder().decode(bytes))
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]
        const value = message.value
        if (value === undefined) continue
        value.id = BigInt(value.id)
        value.priority = Number(value.priority)
        value.done = value.done === 't' || value.done === 'true'
        value.payload = JSON.parse(value.payload)
        rows.set(message.key, value)
      }
      count += messages.length
      continue
    }
    const onGroup = (messages) => {
      count += messages.length
      if (mode === 'values' || mode === 'stage') {
        const parsed = parser.parseMessages(messages)
        if (mode === 'stage') store.stage(parsed)
      }
      return true
    }
    const rest = await readMessageArray(streamOf(bytes), 'bench', signal, onGroup, yielder)
    count += rest.length
    if (mode === 'values') parser.parseMessages(rest)
    if (mode === 'stage') {
      const parsed = parser.parseMessages(rest)
      store.settleStaged(true)
      store.applyBatch(parsed)
    }
  }
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  const cpuMs = (cpu.user + cpu.system) / 1000
  await new Promise((resolve) => setTimeout(resolve, 10))
  observer.disconnect()
  if (count < ROWS) throw new Error(`${mode}: ${count} messages`)
  if (mode === 'stage' && store.getSnapshot().rows.size !== ROWS) throw new Error('stage: rows missing')
  return { ms, cpuMs, gcMs, gcCount, gcLongest }
}

/**
 * `--phases`: per build, in one warm process, the least time over 7 rounds of the value parsers alone
 * (`parseMessages` over groups of 200 parsed messages) and of staging alone (`stage` of those into a fresh store),
 * the steadiest way to compare two builds' per-row work on a loaded machine.
 */
async function phases(variant) {
  const { createMessageParser, ShapeStore } = await import(new URL(`./.build/parts-${variant}.mjs`, import.meta.url).href)
  const parts = []
  for (let i = 1; i <= ROWS; i++) parts.push(snapshotInsertJson('t0_0000', i))
  const groups = []
  for (let i = 0; i < ROWS; i += 200) groups.push(`[${parts.slice(i, i + 200).join(',')}]`)
  const values = []
  const stage = []
  for (let round = 0; round < 7; round++) {
    const messages = groups.map((group) => JSON.parse(group))
    globalThis.gc()
    const parser = createMessageParser(BENCH_SCHEMA)
    let start = performance.now()
    const parsed = messages.map((group) => parser.parseMessages(group))
    values.push(performance.now() - start)
    globalThis.gc()
    const store = new ShapeStore()
    start = performance.now()
    for (const group of parsed) store.stage(group)
    store.settleStaged(true)
    stage.push(performance.now() - start)
  }
  return { valuesMs: Math.min(...values), stageMs: Math.min(...stage) }
}

if (process.argv[2] === '--phases-child') {
  phases(process.argv[3]).then((result) => process.send(result), (error) => {
    console.error(error)
    process.exit(1)
  })
} else if (args.includes('--phases')) {
  for (const variant of VARIANTS) await buildParts(variant)
  const runs = Object.fromEntries(VARIANTS.map((variant) => [variant.name, []]))
  for (let rep = 0; rep < REPS; rep++) {
    for (const variant of rep % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      runs[variant.name].push(await new Promise((resolve, reject) => {
        const child = fork(fileURLToPath(import.meta.url), ['--phases-child', variant.name, '--rows', String(ROWS)], { execArgv: ['--expose-gc'] })
        child.once('message', resolve)
        child.once('exit', (code) => (code ? reject(new Error(`${variant.name} exited ${code}`)) : undefined))
      }))
    }
  }
  console.log(`${ROWS} rows, ${REPS} processes per build, least of 7 rounds each, then the median over processes; load ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`)
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  for (const variant of VARIANTS) {
    const r = runs[variant.name]
    console.log(`${variant.name.padEnd(8)} value parsers ${median(r.map((x) => x.valuesMs)).toFixed(1)} ms  staging ${median(r.map((x) => x.stageMs)).toFixed(1)} ms`)
  }
} else if (process.argv[2] === '--child') {
  measure(process.argv[3], process.argv[4]).then((result) => process.send(result), (error) => {
    console.error(error)
    process.exit(1)
  })
} else {
  for (const variant of VARIANTS) await buildParts(variant)
  const jobs = MODES.flatMap((mode) => VARIANTS.map((variant) => `${mode}:${variant.name}`))
  const results = Object.fromEntries(jobs.map((job) => [job, []]))
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? jobs : [...jobs].reverse()
    for (const job of order) {
      const [mode, variant] = job.split(':')
      const result = await new Promise((resolve, reject) => {
        const child = fork(fileURLToPath(import.meta.url), ['--child', mode, variant, '--rows', String(ROWS)], {
          execArgv: ['--expose-gc', ...(process.env.PARTS_NODE_FLAGS ? process.env.PARTS_NODE_FLAGS.split(' ') : [])],
        })
        child.once('message', resolve)
        child.once('exit', (code) => (code ? reject(new Error(`${mode} exited ${code}`)) : undefined))
      })
      results[job].push(result)
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  console.log(`${ROWS} rows, ${REPS} reps, load ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`)
  for (const job of jobs) {
    const r = results[job]
    console.log(`${job.padEnd(14)} ${median(r.map((x) => x.ms)).toFixed(0).padStart(6)} ms  (min ${Math.min(...r.map((x) => x.ms)).toFixed(0)})  cpu ${median(r.map((x) => x.cpuMs)).toFixed(0)} ms  gc ${median(r.map((x) => x.gcMs)).toFixed(0)} ms in ${median(r.map((x) => x.gcCount))} (longest ${median(r.map((x) => x.gcLongest)).toFixed(1)})`)
  }
}
