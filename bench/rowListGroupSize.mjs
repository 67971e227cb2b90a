/**
 * By-hand experiment (not part of `npm run bench`): ours' `rowList` update latency for several `ShapeRowList` group
 * sizes next to the selector (first version: 16, 128, 1,024, 10,000; now the default `ShapeRowList` against a bench-local
 * tree of groups nested 16 and 32 wide, `rowTree`), in both react-dom builds, 2 repetitions, one fresh process per measurement.
 * `node bench/rowListGroupSize.mjs` after `node bench/run.mjs` has built `bench/.build/ours.mjs`; prints JSON lines.
 * Question it answers: is React's walk over siblings still what `ShapeRowList` pays beyond the selector, and what
 * would nesting the groups buy, against their memo list measured in the same repetition (`side: 'theirs'`)?
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
  { variant: 'memo', side: 'theirs' }, { variant: 'selector' }, { variant: 'rowList' }, { variant: 'rowTree', groupSize: 16 }, { variant: 'rowTree', groupSize: 32 },
]
for (let rep = 0; rep < 3; rep++) {
  for (const reactBuild of ['production', 'profiling']) {
    for (const c of configs) {
      const out = await run({ side: 'ours', scenario: 'react', rows: 10_000, url, table: `g${rep}_${String(seq++).padStart(4, '0')}`, reactBuild, ...c })
      console.log(JSON.stringify({ rep, reactBuild, ...c, ms: out.ok ? Number(out.result.latencyMs.toFixed(2)) : out.error.slice(0, 200), rowRenders: out.result?.rowRenders, samples: out.result?.samples }))
    }
  }
}
server.kill('SIGTERM')
