/**
 * One measurement in a fresh process: `node --expose-gc bench/worker.mjs '<json job>'`.
 * The job names a scenario, a side (`ours` | `theirs` | `floor`) and the scenario's parameters; the result goes
 * back over IPC (or stdout when run by hand) as `{ ok: true, result }` or `{ ok: false, error }`.
 */
const job = JSON.parse(process.argv[2] ?? '{}')

async function loadAdapter(side) {
  if (side === 'theirs') return import('./adapters/theirs.mjs')
  if (side === 'ours') return import('./adapters/ours.mjs')
  if (side === 'oursLazy') {
    const ours = await import('./adapters/ours.mjs')
    return { ...ours, name: 'ours (lazyJson)', openShape: (options) => ours.openShape({ ...options, lazyJson: true }) }
  }
  if (side === 'oursNoYield') {
    const ours = await import('./adapters/ours.mjs')
    return { ...ours, name: 'ours (never yields)', openShape: (options) => ours.openShape({ ...options, noYield: true }) }
  }
  return undefined
}

async function run() {
  if (job.scenario === 'react' || job.scenario === 'write') {
    const { installDom } = await import('./scenarios/reactUpdate.mjs')
    await installDom()
  }
  const adapter = await loadAdapter(job.side)
  switch (job.scenario) {
    case 'sync': {
      const { initialSync } = await import('./scenarios/initialSync.mjs')
      return initialSync({ adapter, ...job })
    }
    case 'floor': {
      const { parseFloor } = await import('./scenarios/parseFloor.mjs')
      return parseFloor(job)
    }
    case 'live': {
      const { liveThroughput } = await import('./scenarios/liveThroughput.mjs')
      return liveThroughput({ adapter, ...job })
    }
    case 'react': {
      const { reactUpdate } = await import('./scenarios/reactUpdate.mjs')
      return reactUpdate({ adapter, ...job })
    }
    case 'write': {
      const { writeLatency } = await import('./scenarios/writeLatency.mjs')
      return writeLatency({ adapter, ...job })
    }
    default:
      throw new Error(`unknown scenario ${job.scenario}`)
  }
}

function report(message) {
  if (process.send) process.send(message, () => process.exit(0))
  else {
    console.log(JSON.stringify(message))
    process.exit(0)
  }
}

run().then(
  (result) => report({ ok: true, result }),
  (error) => report({ ok: false, error: String(error?.stack ?? error) }),
)
