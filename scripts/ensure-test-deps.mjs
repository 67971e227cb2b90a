// Makes a fresh machine able to run `npm test`: Debian Chromium (browser tests), PostgreSQL 15 binaries (the
// logical-replication source's suite) and the React 18 copy for the second React pass. Installs what is missing
// when it can (root with apt-get, npm for compat/react18); otherwise stops with the command to run. Never skips.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts })

const system = [
  { binary: '/usr/bin/chromium', apt: 'chromium', why: 'browser tests (test/e2e, stories)' },
  { binary: '/usr/lib/postgresql/15/bin/initdb', apt: 'postgresql', why: 'the PostgreSQL source suite' },
]
const missing = system.filter((dep) => !existsSync(dep.binary))
if (missing.length > 0) {
  const names = missing.map((dep) => dep.apt)
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')
  if (!canInstall) {
    console.error(`Missing system packages for ${missing.map((d) => d.why).join(' and ')}.`)
    console.error(`Install them with: sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`)
    process.exit(1)
  }
  console.log(`Installing ${names.join(', ')} with apt-get…`)
  run('apt-get', ['update', '-qq'])
  run('apt-get', ['install', '-y', '-qq', ...names], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

if (!existsSync(`${root}compat/react18/node_modules/react/package.json`)) {
  console.log('Installing React 18 for the second React test pass (compat/react18)…')
  run('npm', ['ci', '--prefix', 'compat/react18', '--no-audit', '--no-fund'], { cwd: root })
}
