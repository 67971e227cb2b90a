/**
 * By-hand experiment (not part of `npm run bench`, whose `react` group reports the same figures with fewer samples):
 * the plain and memo lists of `scenarios/reactUpdate.mjs`, ours and theirs back to back in fresh processes, sides
 * alternating, `--rounds N` rounds of `--samples M` measured updates each; prints per-round ratios ours/theirs of
 * publish → commit and of render time, the same spans in CPU time (robust on a loaded machine), and their medians.
 * `node bench/listAB.mjs [--rounds 4] [--samples 20] [--variants plain,memo] [--builds profiling,production]`
 * after `node bench/buildOurs.mjs` (or a bench run) has built `bench/.build/ours.mjs` from the working tree.
 * `--profile DIR` writes a CPU profile of each measured window instead (by hand: where the render time goes).
 */
import { fork } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { summarize } from './stats.mjs'

const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const index = argv.indexOf(`--${name}`)
  return index >= 0 ? argv[index + 1] : fallback
}
const rounds = Number(option('rounds', '4'))
const samples = Number(option('samples', '20'))
const variants = option('variants', 'plain,memo').split(',')
const builds = option('builds', 'profiling,production').split(',')
const profileDir = option('profile', undefined)
if (profileDir) mkdirSync(profileDir, { recursive: true })

const bench = new URL('.', import.meta.url).pathname.replace(/\/$/, '')
const server = fork(`${bench}/server/main.mjs`, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
const url = await new Promise((resolve) => server.once('message', (message) => resolve(message.url)))
const run = (job) => new Promise((resolve) => {
  const child = fork(`${bench}/worker.mjs`, [JSON.stringify(job)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } })
  child.on('message', resolve)
})

console.log(`load average at start: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`)
/** Ratios printed per round: wall-clock publish → commit and render time, and the same spans in process CPU time. */
const METRICS = [['publish→commit', 'latencyMs'], ['render', 'renderMs'], ['cpu publish→commit', 'cpuMs'], ['cpu render→commit', 'renderCpuMs']]
const ratios = {}
let seq = 0
for (let round = 0; round < rounds; round++) {
  for (const reactBuild of builds) {
    for (const variant of variants) {
      const id = `${variant}-${reactBuild}`
      const result = {}
      for (const side of round % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours']) {
        const table = `ab${String(seq++).padStart(4, '0')}`
        const cpuProfile = profileDir ? join(profileDir, `${id}-${side}-${round}.cpuprofile`) : undefined
        const outcome = await run({ scenario: 'react', side, rows: 10_000, url, table, variant, reactBuild, maxSamples: samples, sampleBudgetMs: 60_000, cpuProfile })
        if (!outcome.ok) throw new Error(`${id} ${side}: ${outcome.error}`)
        result[side] = outcome.result
      }
      const line = [`round ${round + 1} ${id}:`]
      ratios[id] ??= {}
      for (const [name, field] of METRICS) {
        const ratio = result.ours[field] / result.theirs[field]
        ;(ratios[id][name] ??= []).push(ratio)
        line.push(`${name} ${result.ours[field].toFixed(2)} / ${result.theirs[field].toFixed(2)} = ${ratio.toFixed(3)};`)
      }
      console.log(line.join(' '))
    }
  }
}
for (const [id, byMetric] of Object.entries(ratios)) {
  const parts = Object.entries(byMetric).map(([name, values]) => {
    const s = summarize(values)
    return `${name} ${s.median.toFixed(3)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`
  })
  console.log(`${id} ours/theirs: ${parts.join('; ')}`)
}
console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`)
server.kill('SIGTERM')
