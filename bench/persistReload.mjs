/**
 * Persistence bench, in Chromium (Debian's /usr/bin/chromium driven by playwright-core): time to first rows on a
 * page reload of a 10k and a 100k-row shape, from IndexedDB (ours with `persist: indexedDBStorage()`) vs from the
 * network (ours without a cache, and `@electric-sql/client`'s `Shape`, which `@electric-sql/react` uses and which
 * always refetches), plus the stored bytes per row.
 *
 * Rules:
 * - Every measurement starts on a freshly reloaded page (new JS heap, new IndexedDB connection); the cache read is
 *   measured with a `fetch` that never answers, so the rows it shows can only come from IndexedDB.
 * - "First rows" is the moment the shape's rows are readable: our `getSnapshot().isUpToDate` with all rows, their
 *   `shape.value` resolving. No React render is included on either side.
 * - The server is the bench's generator server on 127.0.0.1 (pre-encoded chunks, bench/server), so the network side
 *   is a loopback fetch, parse and materialize: the most favourable network there is.
 *
 * Usage: `node bench/persistReload.mjs [--rows 10000,100000] [--reps 3]` writes bench/results/persist.{json,md};
 * `npm run bench` runs it too (group `persist`) and adds its table to the report.
 */
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareTable } from './probe.mjs'
import { fmt, summarize } from './stats.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

async function bundle() {
  const esbuild = await import('esbuild')
  const entry = [
    `import { ShapeClient, indexedDBStorage } from ${JSON.stringify(join(root, 'src/core/index.ts'))}`,
    `import { Shape, ShapeStream } from '@electric-sql/client'`,
    `globalThis.__bench = { ShapeClient, indexedDBStorage, Shape, ShapeStream }`,
  ].join('\n')
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  })
  return result.outputFiles[0].text
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'server/main.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    child.once('message', (message) => resolve({ child, url: message.url }))
    child.once('error', reject)
  })
}

/**
 * In the page: ours from the network with persistence on. First rows = the first up-to-date publish; the write that
 * follows it is split into encoding (publish → `setItem` call) and the IndexedDB put (`setItem` → settled).
 */
async function oursNetwork({ url, table, databaseName, rows }) {
  const { ShapeClient, indexedDBStorage } = globalThis.__bench
  const idb = indexedDBStorage({ databaseName })
  let setAt
  const storage = {
    getItem: (key) => idb.getItem(key),
    setItem: (key, value) => {
      if (key.includes('/shape/')) setAt ??= performance.now()
      return idb.setItem(key, value)
    },
    removeItem: (key) => idb.removeItem(key),
  }
  const start = performance.now()
  const client = new ShapeClient({ persist: { storage } })
  const shape = client.shape({ url: `${url}/v1/shape`, params: { table } })
  let upAt
  shape.subscribe(() => {
    if (shape.getSnapshot().isUpToDate) upAt ??= performance.now()
  })
  const release = shape.retain()
  await shape.whenUpToDate()
  if (shape.getSnapshot().rows.size !== rows) throw new Error(`ours: ${shape.getSnapshot().rows.size} rows`)
  await client.flushPersisted()
  const putMs = performance.now() - setAt
  release()
  client.dispose()
  await client.flushPersisted()
  const index = JSON.parse(await idb.getItem('live-shapes/default/index'))
  const text = await idb.getItem(index[0])
  return { ms: upAt - start, encodeMs: setAt - upAt, putMs, storedChars: text.length, storedUtf8Bytes: new TextEncoder().encode(text).length }
}

/** In the page: a reload of ours from IndexedDB, the network never answering. */
async function oursCache({ url, table, databaseName, rows }) {
  const { ShapeClient, indexedDBStorage } = globalThis.__bench
  const start = performance.now()
  const client = new ShapeClient({ fetch: () => new Promise(() => {}), persist: { storage: indexedDBStorage({ databaseName }) } })
  const shape = client.shape({ url: `${url}/v1/shape`, params: { table } })
  const release = shape.retain()
  await new Promise((resolve) => {
    if (shape.getSnapshot().isUpToDate) resolve()
    const off = shape.subscribe(() => {
      if (!shape.getSnapshot().isUpToDate) return
      off()
      resolve()
    })
  })
  const ms = performance.now() - start
  const size = shape.getSnapshot().rows.size
  const source = shape.getStatus().source
  release()
  client.dispose()
  if (size !== rows || source !== 'cache') throw new Error(`ours from cache: ${size} rows, source ${source}`)
  return { ms }
}

/** In the page: `@electric-sql/client` `Shape` from the network (what `@electric-sql/react` does on every load). */
async function theirsNetwork({ url, table, rows }) {
  const { Shape, ShapeStream } = globalThis.__bench
  const controller = new AbortController()
  const start = performance.now()
  const shape = new Shape(new ShapeStream({ url: `${url}/v1/shape`, params: { table }, signal: controller.signal }))
  await shape.value
  const ms = performance.now() - start
  const size = shape.currentValue.size
  shape.unsubscribeAll()
  controller.abort()
  if (size !== rows) throw new Error(`theirs: ${size} rows`)
  return { ms }
}

/** `median [min–max]` of a summary. */
function cell(summary, digits = 3) {
  if (!summary) return '–'
  return summary.n > 1 ? `${fmt(summary.median, digits)} [${fmt(summary.min, digits)}–${fmt(summary.max, digits)}]` : fmt(summary.median, digits)
}

/**
 * Runs the persistence bench; resolves with the summaries and their markdown table.
 * @example
 * const { markdown } = await persistBench({ sizes: [10_000], reps: 1 })
 */
export async function persistBench({ sizes = [10_000, 100_000], reps = 3 } = {}) {
  const { chromium } = await import('playwright-core')
  const loadStart = os.loadavg()[0].toFixed(1)
  const script = await bundle()
  const server = await startServer()
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const results = []
  try {
    const page = await browser.newPage()
    const fresh = async () => {
      await page.goto(`${server.url}/_bench/page`)
      await page.addScriptTag({ content: script })
    }
    for (const rows of sizes) {
      const table = `persist_${rows}`
      await prepareTable(server.url, table, rows)
      const samples = { oursNetwork: [], oursCache: [], theirsNetwork: [], encodeMs: [], putMs: [], ratio: [], bytesPerRow: [] }
      for (let rep = 0; rep < reps; rep++) {
        const args = { url: server.url, table, rows, databaseName: `bench-${rows}-${rep}-${Date.now()}` }
        await fresh()
        const network = await page.evaluate(oursNetwork, args)
        await fresh()
        const cache = await page.evaluate(oursCache, args)
        await fresh()
        const theirs = await page.evaluate(theirsNetwork, args)
        samples.oursNetwork.push(network.ms)
        samples.encodeMs.push(network.encodeMs)
        samples.putMs.push(network.putMs)
        samples.oursCache.push(cache.ms)
        samples.theirsNetwork.push(theirs.ms)
        samples.ratio.push(cache.ms / theirs.ms)
        samples.bytesPerRow.push(network.storedUtf8Bytes / rows)
        console.error(`[persist bench] ${rows} rows rep ${rep + 1}: cache ${cache.ms.toFixed(0)} ms, ours network ${network.ms.toFixed(0)} ms, theirs network ${theirs.ms.toFixed(0)} ms, ${(network.storedUtf8Bytes / rows).toFixed(0)} B/row`)
      }
      results.push({ rows, ...Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summarize(values)])) })
    }
  } finally {
    await browser.close()
    server.child.kill('SIGTERM')
  }
  const chromiumVersion = browser.version()
  const lines = [
    '#### Persistence: time to first rows on reload, IndexedDB vs network (Chromium)',
    '',
    `Chromium ${chromiumVersion}, ${reps} reps, median [min–max], each measurement on a freshly reloaded page; ${os.cpus().length} CPUs, load average ${loadStart} at start, ${os.loadavg()[0].toFixed(1)} at end.`,
    'From IndexedDB: ours with `persist: { storage: indexedDBStorage() }`, the network never answering. From the network:',
    'a loopback fetch of the bench server (pre-encoded chunks), parse and materialize; `@electric-sql/client` `Shape` is',
    'what `@electric-sql/react` does on every load (no persisted cache). Write of the whole shape after its first up-to-date:\nencoding (main thread, after the publish) and the IndexedDB put (async).',
    'Stored size: UTF-8 bytes of the stored JSON entry per row (IndexedDB may store strings as UTF-16 on disk).',
    '',
    '| rows | ours, from IndexedDB | ours, from network | @electric-sql/client, from network | cache / theirs | write: encode | write: IndexedDB put | stored bytes/row |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.rows.toLocaleString('en')} | ${cell(r.oursCache)} ms | ${cell(r.oursNetwork)} ms | ${cell(r.theirsNetwork)} ms | ${cell(r.ratio, 2)} | ${cell(r.encodeMs)} ms | ${cell(r.putMs)} ms | ${cell(r.bytesPerRow)} |`),
    '',
  ]
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results/persist.json'), JSON.stringify({ chromium: chromiumVersion, reps, results }, null, 2))
  const markdown = lines.join('\n')
  writeFileSync(join(here, 'results/persist.md'), markdown)
  return { chromium: chromiumVersion, reps, results, markdown }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const option = (name, fallback) => {
    const index = argv.indexOf(`--${name}`)
    return index >= 0 ? argv[index + 1] : fallback
  }
  const { markdown } = await persistBench({ sizes: option('rows', '10000,100000').split(',').map(Number), reps: Number(option('reps', '3')) })
  console.log(markdown)
}
