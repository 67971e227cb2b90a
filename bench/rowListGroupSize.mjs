/**
 * By-hand experiment (not part of `npm run bench`): ours' `rowList` update latency for several `ShapeRowList` group
 * sizes next to the selector, in both react-dom builds, 2 repetitions, one fresh process per measurement.
 * `node bench/rowListGroupSize.mjs` after `node bench/run.mjs` has built `bench/.build/ours.mjs`; prints JSON lines.
 * Question it answers: is React's walk over siblings still what `ShapeRowList` pays beyond the selector?
 */
import { fork } from 'node:child_process'
const bench = new URL('.', import.meta.url).pathname.replace(/\/$/, '')
const server = fork(`${bench}/server/main.mjs`, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
const url = await new Promise((r) => server.once('message', (m) => r(m.url)))
const run = (job) => new Promise((resolve) => {
  const child = fork(`${bench}/worker.mjs`, [JSON.stringify(job)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } })
  child.on('message', resolve)
})
let seq = 0
const configs = [
  { variant: 'selector' }, { variant: 'rowList', groupSize: 16 }, { variant: 'rowList', groupSize: 128 }, { variant: 'rowList', groupSize: 1024 }, { variant: 'rowList', groupSize: 10000 },
]
for (let rep = 0; rep < 2; rep++) {
  for (const reactBuild of ['production', 'profiling']) {
    for (const c of configs) {
      const out = await run({ scenario: 'react', side: 'ours', rows: 10_000, url, table: `g${rep}_${String(seq++).padStart(4, '0')}`, reactBuild, ...c })
      console.log(JSON.stringify({ rep, reactBuild, ...c, ms: out.ok ? Number(out.result.latencyMs.toFixed(2)) : out.error.slice(0, 200), samples: out.result?.samples }))
    }
  }
}
server.kill('SIGTERM')
