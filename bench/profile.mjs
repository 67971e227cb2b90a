/**
 * Where our time goes: runs one worker under `--cpu-prof` and summarizes the profile by self time, per function
 * and per area (our modules, found by the `// path` markers esbuild writes in the bench bundle; fetch/undici; GC).
 */
import { fork } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** For each line of the bench bundle, the source module it came from. */
function bundleModules() {
  const lines = readFileSync(join(here, '.build/ours.mjs'), 'utf8').split('\n')
  const modules = []
  let current = 'bundle'
  for (const line of lines) {
    const match = /^\/\/ (.*\.(?:ts|tsx|js|mjs))$/.exec(line)
    if (match) current = match[1].replace(/^.*?src\//, 'src/')
    modules.push(current)
  }
  return modules
}

function areaOf(frame, modules) {
  const { url, functionName } = frame
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName
  if (url.includes('.build/ours.mjs')) return `ours: ${modules[frame.lineNumber] ?? 'bundle'}`
  if (url.includes('@electric-sql')) return 'electric'
  if (url.includes('undici') || url.includes('internal/deps') || url.includes('node:internal/fetch')) return 'node fetch (undici)'
  if (url.includes('/bench/')) return 'bench harness'
  if (url === '') return 'native / builtins (JSON.parse, …)'
  return `node: ${basename(url)}`
}

/** Self time by area and by function (ms), from a `.cpuprofile`. */
export function summarizeProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const modules = bundleModules()
  const self = new Map()
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000))
  const byArea = new Map()
  const byFunction = new Map()
  let total = 0
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0
    if (ms === 0) continue
    const area = areaOf(node.callFrame, modules)
    if (area === '(idle)') continue
    total += ms
    byArea.set(area, (byArea.get(area) ?? 0) + ms)
    const name = `${node.callFrame.functionName || '(anonymous)'} [${area}]`
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms)
  }
  const top = (map, n) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({ name, ms, share: ms / total }))
  return { totalMs: total, areas: top(byArea, 12), functions: top(byFunction, 15) }
}

/** Runs `job` in a worker under the CPU profiler and returns the summary. */
export async function profileJob(job) {
  const dir = join(here, 'results/profile')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const outcome = await new Promise((resolve) => {
    const child = fork(join(here, 'worker.mjs'), [JSON.stringify(job)], {
      execArgv: ['--expose-gc', '--max-old-space-size=8192', '--cpu-prof', `--cpu-prof-dir=${dir}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    })
    let message
    child.on('message', (m) => {
      message = m
    })
    child.on('exit', () => resolve(message ?? { ok: false, error: 'no result' }))
  })
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
  if (!file) return { outcome, error: 'no profile written' }
  return { outcome, summary: summarizeProfile(join(dir, file)) }
}
