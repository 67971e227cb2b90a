/**
 * By-hand experiment (not part of `npm run bench`): CPU profile of ours' single-row updates only (mount and warm-up
 * excluded), `rowList` next to `selector`, production react-dom, 30 updates each; prints the self-time summary.
 * `node bench/rowListProfile.mjs` after `node bench/run.mjs` has built `bench/.build/ours.mjs`.
 * Question it answers: what does a list of 10,000 `useShapeRow` rows add to an update beyond the selector?
 */
import { fork } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { summarizeProfile } from './profile.mjs'

const bench = new URL('.', import.meta.url).pathname.replace(/\/$/, '')
const dir = join(bench, 'results/profile-react')
mkdirSync(dir, { recursive: true })
const server = fork(`${bench}/server/main.mjs`, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
const url = await new Promise((resolve) => server.once('message', (message) => resolve(message.url)))
const run = (job) => new Promise((resolve) => {
  const child = fork(`${bench}/worker.mjs`, [JSON.stringify(job)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } })
  child.on('message', resolve)
})
let seq = 0
for (const variant of ['rowList', 'selector']) {
  const cpuProfile = join(dir, `${variant}.cpuprofile`)
  const table = `p${String(seq++).padStart(5, '0')}`
  const outcome = await run({ scenario: 'react', side: 'ours', rows: 10_000, url, table, variant, reactBuild: 'production', cpuProfile, maxSamples: 30, sampleBudgetMs: 60_000 })
  if (!outcome.ok) {
    console.log(JSON.stringify({ variant, error: outcome.error.slice(0, 300) }))
    continue
  }
  const summary = summarizeProfile(cpuProfile)
  console.log(JSON.stringify({ variant, latencyMs: outcome.result.latencyMs, samples: outcome.result.samples, summary }, null, 1))
}
server.kill('SIGTERM')
