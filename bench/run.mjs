/**
 * `npm run bench`: ours vs `@electric-sql/client` / `@electric-sql/react`, side by side in one run.
 *
 * Rules:
 * - Every measurement runs in a fresh Node process (`worker.mjs`); every repetition gets a fresh server process.
 * - Within a repetition the two sides run back to back, in alternating order across repetitions, and every
 *   ratio ours/theirs is computed within one repetition, then summarized (median, min-max) over repetitions,
 *   so drift of a noisy shared machine hits both sides of a ratio alike.
 * - Only measured numbers are reported; a side that cannot run says why instead of getting a number.
 *
 * Flags: `--reps N` (default 3), `--full` (adds the 1M-row initial sync and 1M-row live throughput), `--only sync,floor,live,react,write,size,profile,persist`,
 * `--no-profile`, `--no-react-prod` (skip the production react-dom runs of the plain and memo lists and ShapeRowList), `--no-write` (do not update bench/RESULTS.md; runs with `--only` never do), `--out NAME` (write
 * bench/results/NAME.{json,md}; default `latest`, or `partial` with `--only`). Environment: `BENCH_HEAP_SPACES=1` adds
 * the heap's spaces at the peak and after GC to each sync result (JSON only); `BENCH_NODE_FLAGS` adds
 * V8/Node flags to every worker (e.g. `--max-semi-space-size=1` to see how much of a peak is young garbage).
 */
import { execFileSync, fork } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildOurs } from './buildOurs.mjs'
import { bundleSizes } from './bundleSize.mjs'
import { persistBench } from './persistReload.mjs'
import { profileJob } from './profile.mjs'
import { fmt, summarize } from './stats.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const argv = process.argv.slice(2)
const flag = (name) => argv.includes(`--${name}`)
const option = (name, fallback) => {
  const index = argv.indexOf(`--${name}`)
  return index >= 0 ? argv[index + 1] : fallback
}
const reps = Number(option('reps', '3'))
const full = flag('full')
const only = option('only', undefined)?.split(',')
const wants = (group) => !only || only.includes(group)
const WORKER_TIMEOUT_MS = 300_000

function log(...parts) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts)
}

/** HEAD of the checkout the bench bundles, and whether `src/` has uncommitted changes. */
function gitDescribe() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head} + uncommitted changes in src/` : head
  } catch {
    return 'unknown commit'
  }
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'server/main.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    child.once('message', (message) => resolve({ child, url: message.url }))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

function runWorker(job) {
  return new Promise((resolve) => {
    const child = fork(join(here, 'worker.mjs'), [JSON.stringify(job)], {
      execArgv: ['--expose-gc', '--max-old-space-size=8192', ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    })
    let settled = false
    const finish = (value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(value)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish({ ok: false, error: `timed out after ${WORKER_TIMEOUT_MS} ms` })
    }, WORKER_TIMEOUT_MS)
    child.on('message', finish)
    child.on('exit', (code) => finish({ ok: false, error: `worker exited with ${code} before reporting` }))
  })
}

/** The jobs of one repetition; each group lists its sides in the order they run (alternating across repetitions). */
function plan(rep) {
  const sides = rep % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours']
  const groups = []
  if (wants('sync') || wants('floor')) {
    for (const rows of full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]) {
      // `oursLazy`: ours with the `lazyJson` option (the option the issue asks for to lower memory per row).
      // `oursNoYield`: ours reading each body in one go, the baseline of what yielding costs in total time.
      const syncSides = wants('sync') ? [...sides, ...(rows === 100_000 ? ['oursLazy'] : []), ...(rows >= 100_000 ? ['oursNoYield'] : [])] : []
      groups.push({ id: `sync-${rows}`, sides: [...syncSides, ...(wants('floor') ? ['floor'] : [])], job: { scenario: 'sync', rows } })
    }
  }
  if (wants('live')) {
    // `--full` adds 1M rows, so "per-transaction cost flat from 10k to 1M rows" is measured (≈ 4 min per repetition).
    const liveSizes = full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]
    for (const mode of ['long-poll', 'sse']) {
      for (const rows of liveSizes) groups.push({ id: `live-${mode}-${rows}`, sides, job: { scenario: 'live', rows, mode } })
    }
    // The same transactions for a subscriber that reads only the changed rows (`useShapeRow`, `ShapeRowList`, a selector).
    for (const mode of ['long-poll', 'sse']) {
      for (const rows of liveSizes) groups.push({ id: `live-${mode}-${rows}-rowonly`, sides, job: { scenario: 'live', rows, mode, readSnapshot: false } })
    }
  }
  if (wants('react')) {
    for (const variant of ['plain', 'memo', 'selector', 'rowHooks']) groups.push({ id: `react-${variant}`, sides, job: { scenario: 'react', rows: 10_000, variant } })
    // Theirs has no row-list component: `rowList` runs ours only and is compared with their memo list (same rep).
    groups.push({ id: 'react-rowList', sides: ['ours'], job: { scenario: 'react', rows: 10_000, variant: 'rowList' } })
    if (!flag('no-react-prod')) {
      groups.push({ id: 'react-plain-prod', sides, job: { scenario: 'react', rows: 10_000, variant: 'plain', reactBuild: 'production' } })
      groups.push({ id: 'react-memo-prod', sides, job: { scenario: 'react', rows: 10_000, variant: 'memo', reactBuild: 'production' } })
      groups.push({ id: 'react-rowList-prod', sides: ['ours'], job: { scenario: 'react', rows: 10_000, variant: 'rowList', reactBuild: 'production' } })
    }
  }
  if (wants('write')) groups.push({ id: 'write-1000', sides, job: { scenario: 'write', rows: 1_000 } })
  return groups
}

async function main() {
  const started = new Date()
  const machine = {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAvgStart: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  }
  let oursError
  const oursCommit = gitDescribe()
  try {
    await buildOurs()
    const adapter = await import('./adapters/ours.mjs')
    if (!adapter.available) oursError = 'ShapeClient is not exported yet'
  } catch (error) {
    oursError = `build failed: ${String(error.message ?? error).split('\n')[0]}`
  }
  if (oursError) log(`ours is not measurable: ${oursError}`)
  const theirs = await import('./adapters/theirs.mjs')
  const raw = []
  for (let rep = 0; rep < reps; rep++) {
    const server = await startServer()
    const results = {}
    let tableSeq = 0
    for (const group of plan(rep)) {
      results[group.id] = {}
      for (const side of group.sides) {
        if (side.startsWith('ours') && oursError) {
          results[group.id][side] = { ok: false, error: oursError }
          continue
        }
        // Same name length on every side: the name is in every key, so it changes the bytes on the wire.
        const table = `t${rep}_${String(tableSeq++).padStart(4, '0')}`
        const job = { ...group.job, side, url: server.url, table, scenario: side === 'floor' ? 'floor' : group.job.scenario }
        const outcome = await runWorker(job)
        results[group.id][side] = outcome
        log(`rep ${rep + 1}/${reps} ${group.id} ${side}: ${outcome.ok ? JSON.stringify(outcome.result) : `FAILED ${outcome.error.split('\n')[0]}`}`)
      }
    }
    server.child.kill('SIGTERM')
    raw.push(results)
  }
  const sizes = wants('size') ? await bundleSizes(root) : undefined
  // Persistence (reload from IndexedDB vs network) runs in Chromium, see persistReload.mjs.
  const persist = wants('persist') ? await persistBench({ reps }).catch((error) => ({ error: String(error) })) : undefined
  let profiles
  if (!flag('no-profile') && wants('profile') && !oursError) {
    const server = await startServer()
    profiles = {}
    for (const side of ['ours', 'theirs']) {
      log(`profiling ${side}: initial sync of 100,000 rows`)
      profiles[side] = await profileJob({ scenario: 'sync', side, rows: 100_000, url: server.url, table: side === 'ours' ? 'p_ours' : 'p_thrs' })
    }
    server.child.kill('SIGTERM')
  }
  machine.loadAvgEnd = os.loadavg().map((v) => v.toFixed(2)).join(' ')
  const report = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
    machine,
    versions: { ours: process.env.BENCH_OURS_BUNDLE ? `live-shapes bundle bench/.build/${process.env.BENCH_OURS_BUNDLE}.mjs (BENCH_OURS_BUNDLE, built by hand)` : `live-shapes working tree at ${oursCommit} (bundled from src/ by esbuild)`, theirs: theirs.version, react: (await import('react')).version },
    oursError,
    reps,
    raw,
    sizes,
    profiles,
    persist,
  }
  mkdirSync(join(here, 'results'), { recursive: true })
  const outName = option('out', only ? 'partial' : 'latest')
  writeFileSync(join(here, `results/${outName}.json`), `${JSON.stringify(report, null, 2)}\n`)
  const markdown = renderMarkdown(report)
  writeFileSync(join(here, `results/${outName}.md`), markdown)
  console.log(markdown)
  if (!flag('no-write') && !only) updateResultsMd(markdown)
}

/** Values of `metric` for one side per repetition, `undefined` where that run failed. */
function series(report, groupId, side, pick) {
  return report.raw.map((rep) => {
    const outcome = rep[groupId]?.[side]
    return outcome?.ok ? pick(outcome.result) : undefined
  })
}

function cell(values) {
  const s = summarize(values)
  if (!s) return '–'
  return s.n > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median)
}

function ratioSeries(a, b) {
  return a.map((value, i) => (value !== undefined && b[i] !== undefined && b[i] !== 0 ? value / b[i] : undefined))
}

function verdict(values, limit) {
  const s = summarize(values)
  if (!s || limit === undefined) return ''
  return s.median <= limit ? `met (≤ ${limit})` : `**missed** (≤ ${limit})`
}

function errorsOf(report) {
  const errors = new Set()
  for (const rep of report.raw) {
    for (const [groupId, sides] of Object.entries(rep)) {
      for (const [side, outcome] of Object.entries(sides)) if (!outcome.ok) errors.add(`${groupId} ${side}: ${outcome.error.split('\n')[0]}`)
    }
  }
  return [...errors]
}

function renderMarkdown(report) {
  const lines = []
  const { machine } = report
  lines.push(`Run ${report.started} → ${report.finished}, \`${report.command}\`, ${report.reps} repetitions.`)
  lines.push(`Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memGiB} GiB, ${machine.platform}, Node ${machine.node}; load average at start ${machine.loadAvgStart}, at end ${machine.loadAvgEnd}.`)
  lines.push(`Versions: ours = ${report.versions.ours}; theirs = ${report.versions.theirs}; react ${report.versions.react}.`)
  lines.push('Cells: median (min–max) over repetitions; ratio = ours/theirs computed within each repetition, then summarized.')
  lines.push('')
  const groups = new Set(report.raw.flatMap((rep) => Object.keys(rep)))
  const table = (title, header, rows) => {
    if (rows.length === 0) return
    lines.push(`#### ${title}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`)
    for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
    lines.push('')
  }
  const compare = (groupId, label, pick, limit) => {
    const ours = series(report, groupId, 'ours', pick)
    const theirs = series(report, groupId, 'theirs', pick)
    const ratio = ratioSeries(ours, theirs)
    return [label, cell(ours), cell(theirs), cell(ratio), verdict(ratio, limit)]
  }
  const header = ['metric', 'ours', 'theirs', 'ours/theirs', 'target']
  const syncRows = []
  for (const groupId of [...groups].filter((g) => g.startsWith('sync-'))) {
    const rows = Number(groupId.slice(5))
    const n = rows.toLocaleString('en-US')
    const is100k = rows === 100_000
    syncRows.push(compare(groupId, `${n} rows: time to up-to-date (ms)`, (r) => r.ms, is100k ? 0.35 : undefined))
    const longestRow = compare(groupId, `${n} rows: longest task during sync, wall (ms)`, (r) => r.longestTaskMs)
    if (rows >= 100_000) longestRow[4] = `ours ${verdict(series(report, groupId, 'ours', (r) => r.longestTaskMs), 16)}`
    syncRows.push(longestRow)
    syncRows.push(compare(groupId, `${n} rows: longest task during sync, process CPU (ms)`, (r) => r.longestTaskCpuMs))
    const noYield = series(report, groupId, 'oursNoYield', (r) => r.ms)
    if (noYield.some((value) => value !== undefined)) {
      const noYieldLongest = series(report, groupId, 'oursNoYield', (r) => r.longestTaskMs)
      const noYieldCpu = series(report, groupId, 'oursNoYield', (r) => r.longestTaskCpuMs)
      const oursTime = series(report, groupId, 'ours', (r) => r.ms)
      syncRows.push([`${n} rows, ours never yielding: longest task, wall / process CPU (ms)`, `${cell(noYieldLongest)} / ${cell(noYieldCpu)}`, '', '', ''])
      syncRows.push([`${n} rows: ours time / ours never yielding`, cell(ratioSeries(oursTime, noYield)), '', '', `ours ${verdict(ratioSeries(oursTime, noYield), 1.1)}`])
    }
    syncRows.push(compare(groupId, `${n} rows: peak heap during sync (MB)`, (r) => r.peakHeapMB))
    syncRows.push(compare(groupId, `${n} rows: retained bytes per row`, (r) => r.retainedBytesPerRow, is100k ? 1.0 : undefined))
    const ours = series(report, groupId, 'ours', (r) => r.peakOverRetained)
    const theirs = series(report, groupId, 'theirs', (r) => r.peakOverRetained)
    syncRows.push([`${n} rows: peak heap / retained heap`, cell(ours), cell(theirs), cell(ratioSeries(ours, theirs)), is100k ? `ours ${verdict(ours, 1.4)}` : ''])
    const floorParse = series(report, groupId, 'floor', (r) => r.parseMs)
    const floorFetch = series(report, groupId, 'floor', (r) => r.fetchParseMs)
    const oursMs = series(report, groupId, 'ours', (r) => r.ms)
    const theirsMs = series(report, groupId, 'theirs', (r) => r.ms)
    const lazy = (label, pick) => {
      const oursLazy = series(report, groupId, 'oursLazy', pick)
      if (!oursLazy.some((value) => value !== undefined)) return
      syncRows.push([`${n} rows, ours with lazyJson: ${label}`, cell(oursLazy), cell(series(report, groupId, 'theirs', pick)), cell(ratioSeries(oursLazy, series(report, groupId, 'theirs', pick))), ''])
    }
    lazy('time to up-to-date (ms)', (r) => r.ms)
    lazy('retained bytes per row', (r) => r.retainedBytesPerRow)
    lazy('peak heap / retained heap', (r) => r.peakOverRetained)
    syncRows.push([`${n} rows: floor, JSON.parse only (ms)`, '', '', cell(floorParse), ''])
    syncRows.push([`${n} rows: floor, fetch + text + JSON.parse (ms)`, '', '', cell(floorFetch), ''])
    syncRows.push([`${n} rows: time / parse floor`, cell(ratioSeries(oursMs, floorParse)), cell(ratioSeries(theirsMs, floorParse)), '', is100k ? `ours ${verdict(ratioSeries(oursMs, floorParse), 2)}` : ''])
    const isTarget = rows >= 100_000
    syncRows.push([`${n} rows: time / fetch+parse floor`, cell(ratioSeries(oursMs, floorFetch)), cell(ratioSeries(theirsMs, floorFetch)), '', isTarget ? `ours ${verdict(ratioSeries(oursMs, floorFetch), 1.15)}` : ''])
    // Process CPU time of the same windows: steadier than wall time when the machine is loaded.
    const floorCpu = series(report, groupId, 'floor', (r) => r.fetchParseCpuMs)
    if (floorCpu.some((value) => value !== undefined)) {
      const cpuOf = (side) => series(report, groupId, side, (r) => r.cpuMs)
      syncRows.push([`${n} rows: process CPU / fetch+parse floor's`, cell(ratioSeries(cpuOf('ours'), floorCpu)), cell(ratioSeries(cpuOf('theirs'), floorCpu)), '', ''])
    }
  }
  table('(a) initial sync, (d) parse floor', header, syncRows)
  const liveRows = []
  for (const reader of ['', '-rowonly']) {
    const who = reader === '' ? '' : ', subscriber reads only the changed rows'
    for (const mode of ['long-poll', 'sse']) {
      for (const rows of [10_000, 100_000, 1_000_000]) {
        const groupId = `live-${mode}-${rows}${reader}`
        if (!groups.has(groupId)) continue
        const n = rows.toLocaleString('en-US')
        const target = rows === 100_000 && reader === '' ? 0.5 : undefined
        liveRows.push(compare(groupId, `${mode}, ${n} rows${who}: 100 tx × 100 updates, total (ms)`, (r) => r.ms, target))
        if (reader === '') liveRows.push(compare(groupId, `${mode}, ${n} rows: median tx, commit → published (ms)`, (r) => r.p50TxMs))
        liveRows.push(compare(groupId, `${mode}, ${n} rows${who}: client share, total over 100 tx (ms)`, (r) => r.clientTotalMs, target))
        if (reader === '') liveRows.push(compare(groupId, `${mode}, ${n} rows: client share, median tx (ms)`, (r) => r.clientP50Ms))
      }
      const small = `live-${mode}-10000${reader}`
      const large = `live-${mode}-100000${reader}`
      if (!groups.has(small) || !groups.has(large)) continue
      const growth = (side, pick) => ratioSeries(series(report, large, side, pick), series(report, small, side, pick))
      liveRows.push([`${mode}${who}: per-tx cost at 100k / at 10k rows`, cell(growth('ours', (r) => r.perTxMs)), cell(growth('theirs', (r) => r.perTxMs)), '', 'ours ≈ 1 (does not grow)'])
      liveRows.push([`${mode}${who}: client share at 100k / at 10k rows`, cell(growth('ours', (r) => r.clientTotalMs)), cell(growth('theirs', (r) => r.clientTotalMs)), '', 'ours ≈ 1 (does not grow)'])
      const huge = `live-${mode}-1000000${reader}`
      if (!groups.has(huge)) continue
      const growthTo = (side, pick) => ratioSeries(series(report, huge, side, pick), series(report, small, side, pick))
      liveRows.push([`${mode}${who}: per-tx cost at 1M / at 10k rows`, cell(growthTo('ours', (r) => r.perTxMs)), cell(growthTo('theirs', (r) => r.perTxMs)), '', 'ours ≈ 1 (does not grow)'])
      liveRows.push([`${mode}${who}: client share at 1M / at 10k rows`, cell(growthTo('ours', (r) => r.clientTotalMs)), cell(growthTo('theirs', (r) => r.clientTotalMs)), '', 'ours ≈ 1 (does not grow)'])
    }
  }
  table('(b) live throughput (subscriber reads the published snapshot, `rows` and `data`, on every change; then one that reads only the changed rows)', header, liveRows)
  const reactRows = []
  const memoTheirs = series(report, 'react-memo', 'theirs', (r) => r.latencyMs)
  /** Ours against `theirsGroupId`'s theirs side (`rowList` has no theirs of its own: their memo list stands in). */
  const compareWith = (groupId, theirsGroupId, label, pick) => {
    const ours = series(report, groupId, 'ours', pick)
    const theirs = series(report, theirsGroupId, 'theirs', pick)
    return [label, cell(ours), cell(theirs), cell(ratioSeries(ours, theirs)), '']
  }
  for (const variant of ['plain', 'memo', 'selector', 'rowHooks', 'rowList']) {
    const groupId = `react-${variant}`
    if (!groups.has(groupId)) continue
    const limit = variant === 'rowHooks' ? 0.01 : undefined
    const label = variant === 'rowList' ? 'rowList (theirs: memo list)' : variant
    const theirsGroupId = variant === 'rowList' ? 'react-memo' : groupId
    const row = (text, pick, rowLimit) => variant === 'rowList' ? compareWith(groupId, theirsGroupId, text, pick) : compare(groupId, text, pick, rowLimit)
    reactRows.push(row(`${label}: publish → commit (ms)`, (r) => r.latencyMs, limit ?? (variant === 'plain' || variant === 'memo' ? 0.9 : undefined)))
    if (variant === 'plain' || variant === 'memo') reactRows.push(row(`${label}: render time, Profiler actualDuration (ms)`, (r) => r.renderMs, 0.9))
    reactRows.push(row(`${label}: first update, cold (ms)`, (r) => r.firstMs))
    reactRows.push(row(`${label}: row components rendered`, (r) => r.rowRenders))
    const ours = series(report, groupId, 'ours', (r) => r.latencyMs)
    reactRows.push([`${variant}: ours / theirs memo list`, cell(ratioSeries(ours, memoTheirs)), '', '', variant === 'plain' ? '' : verdict(ratioSeries(ours, memoTheirs), 0.2)])
  }
  table('(c) React, 10k rows, one single-row update (jsdom, react-dom/profiling)', header, reactRows)
  const prodRows = []
  if (groups.has('react-plain-prod')) {
    prodRows.push(compare('react-plain-prod', 'plain: publish → commit (ms)', (r) => r.latencyMs, 0.9))
    prodRows.push(compare('react-plain-prod', 'plain: list render start → commit (ms)', (r) => r.renderMs, 0.9))
    prodRows.push(compare('react-plain-prod', 'plain: first update, cold (ms)', (r) => r.firstMs))
  }
  if (groups.has('react-memo-prod')) {
    prodRows.push(compare('react-memo-prod', 'memo: list render start → commit (ms)', (r) => r.renderMs, 0.9))
    const memoTheirsProd = series(report, 'react-memo-prod', 'theirs', (r) => r.latencyMs)
    prodRows.push(compare('react-memo-prod', 'memo: publish → commit (ms)', (r) => r.latencyMs, 0.9))
    prodRows.push(compare('react-memo-prod', 'memo: first update, cold (ms)', (r) => r.firstMs))
    prodRows.push(compare('react-memo-prod', 'memo: row components rendered', (r) => r.rowRenders))
    const memoOursProd = series(report, 'react-memo-prod', 'ours', (r) => r.latencyMs)
    prodRows.push(['memo: ours / theirs memo list', cell(ratioSeries(memoOursProd, memoTheirsProd)), '', '', verdict(ratioSeries(memoOursProd, memoTheirsProd), 0.2)])
    if (groups.has('react-rowList-prod')) {
      prodRows.push(compareWith('react-rowList-prod', 'react-memo-prod', 'rowList (theirs: memo list): publish → commit (ms)', (r) => r.latencyMs))
      prodRows.push(compareWith('react-rowList-prod', 'react-memo-prod', 'rowList (theirs: memo list): first update, cold (ms)', (r) => r.firstMs))
      prodRows.push(compareWith('react-rowList-prod', 'react-memo-prod', 'rowList (theirs: memo list): row components rendered', (r) => r.rowRenders))
      const rowListProd = series(report, 'react-rowList-prod', 'ours', (r) => r.latencyMs)
      prodRows.push(['rowList: ours / theirs memo list', cell(ratioSeries(rowListProd, memoTheirsProd)), '', '', verdict(ratioSeries(rowListProd, memoTheirsProd), 0.2)])
    }
  }
  table('(c′) React, the same update with production react-dom (`react-dom/client`; commit timed by the updated row\'s layout effect)', header, prodRows)
  if (groups.has('write-1000')) {
    table('(f) one write to one row of a 1,000-row list (jsdom, production react-dom): ours `mutate` (optimistic, confirmed by txid) vs theirs (POST, then wait for the row)', header, [
      compare('write-1000', 'call → row on screen (ms)', (r) => r.screenMs),
      compare('write-1000', 'call → write confirmed by the stream (ms)', (r) => r.confirmMs),
      compare('write-1000', 'React commits of the row until it shows the write', (r) => r.rowCommitsToScreen),
      compare('write-1000', 'responses received before the row shows the write', (r) => r.responsesBeforeScreen),
    ])
  }
  if (report.sizes) {
    // #16's budgets: a component importing useShape + ShapeClientProvider ≤ 10 KB gzip up front, everything ≤ 14 KB.
    const SIZE_TARGETS = { 'ours, useShape component (useShape, ShapeClientProvider)': 10 * 1024, 'ours core + React (live-shapes)': 14 * 1024 }
    const sizeTarget = (name, gzipBytes) => {
      const target = SIZE_TARGETS[name]
      if (target === undefined) return ''
      return `${gzipBytes <= target ? 'met' : '**missed**'} (≤ ${target / 1024} KB)`
    }
    const later = (size) => (size.laterMinBytes ? `${size.laterMinBytes.toLocaleString('en-US')} / ${size.laterGzipBytes.toLocaleString('en-US')}` : '–')
    const sizeRows = Object.entries(report.sizes).map(([name, size]) => size.error
      ? [name, `error: ${size.error}`, '', '', '']
      : [name, size.minBytes.toLocaleString('en-US'), size.gzipBytes.toLocaleString('en-US'), later(size), sizeTarget(name, size.gzipBytes)])
    table('(e) browser bundle (esbuild --minify --splitting, gzip -9 per chunk, react external)', ['entry', 'up front: min bytes', 'up front: gzip bytes', 'loaded later (min / gzip)', 'target'], sizeRows)
    const ours = report.sizes['ours core + React (live-shapes)']
    if (ours?.largest) {
      table('(e) largest modules loaded up front in ours core + React (minified bytes before gzip)', ['module', 'min bytes'],
        ours.largest.map((entry) => [entry.file, entry.minBytes.toLocaleString('en-US')]))
    }
  }
  for (const [side, profile] of Object.entries(report.profiles ?? {})) {
    if (!profile.summary) {
      lines.push(`Profile of ${side}: ${profile.error}`, '')
      continue
    }
    const { summary } = profile
    const ms = profile.outcome?.ok ? ` (that run: ${fmt(profile.outcome.result.ms)} ms to up-to-date under the profiler)` : ''
    table(`CPU profile, ${side}, initial sync of 100,000 rows: self time by area, ${fmt(summary.totalMs)} ms sampled${ms}`, ['area', 'self ms', 'share'],
      summary.areas.map((a) => [a.name, fmt(a.ms), `${(a.share * 100).toFixed(1)}%`]))
    table(`CPU profile, ${side}: top functions by self time`, ['function [area]', 'self ms', 'share'],
      summary.functions.map((f) => [f.name, fmt(f.ms), `${(f.share * 100).toFixed(1)}%`]))
  }
  if (report.persist) lines.push(report.persist.markdown ?? `Persistence bench: ${report.persist.error}`, '')
  const errors = errorsOf(report)
  if (errors.length > 0) {
    lines.push('#### Runs that produced no number', '')
    for (const error of errors) lines.push(`- ${error}`)
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}

function updateResultsMd(markdown) {
  const file = join(here, 'RESULTS.md')
  let text
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return
  }
  const start = '<!-- bench:latest:start -->'
  const end = '<!-- bench:latest:end -->'
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) return
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${markdown}${text.slice(to)}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
