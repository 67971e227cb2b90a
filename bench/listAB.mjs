/**
 * By-hand experiment (not part of `npm run bench`, whose `react` group reports the same figures with fewer samples):
 * the plain and memo lists of `scenarios/reactUpdate.mjs`, ours and theirs back to back in fresh processes, sides
 * alternating, `--rounds N` rounds of `--samples M` measured updates each; prints per-round ratios ours/theirs of
 * publish → commit and of render time, and their medians.
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
      const latency = result.ours.latencyMs / result.theirs.latencyMs
      const render = result.ours.renderMs / result.theirs.renderMs
      ;(ratios[id] ??= { latency: [], render: [] }).latency.push(latency)
      ratios[id].render.push(render)
      console.log(`round ${round + 1} ${id}: publish → commit ${result.ours.latencyMs.toFixed(2)} / ${result.theirs.latencyMs.toFixed(2)} ms = ${latency.toFixed(3)}; render ${result.ours.renderMs.toFixed(2)} / ${result.theirs.renderMs.toFixed(2)} ms = ${render.toFixed(3)}`)
    }
  }
}
for (const [id, { latency, render }] of Object.entries(ratios)) {
  const l = summarize(latency)
  const r = summarize(render)
  console.log(`${id}: publish → commit ours/theirs ${l.median.toFixed(3)} (${l.min.toFixed(2)}–${l.max.toFixed(2)}); render ${r.median.toFixed(3)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`)
}
console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`)
server.kill('SIGTERM')
