#!/usr/bin/env node
/**
 * The Next.js example (examples/nextjs) against this checkout's package, installed the way a user gets it: from the
 * packed tarball, with the example's own lockfile.
 *
 *   node scripts/example.mjs            # build, pack, install, next build, next start on http://127.0.0.1:3100
 *   node scripts/example.mjs --check    # the same, then check the running app and stop (exit 1 on failure)
 *
 * Options: --port <n> (default 3100), --tarball <file> (use this tarball instead of building and packing),
 * --no-browser (with --check: skip the Chromium step; it is skipped anyway when /usr/bin/chromium is missing),
 * --refresh-lock (rewrite the example's lockfile with `npm install`, e.g. after live-shapes' dependencies changed).
 *
 * --check asserts: the server-rendered HTML holds the seeded rows; /v1/shape serves the snapshot; a write through
 * /api/items comes back on a live request; and, in Chromium, a click that writes changes the row without a reload,
 * a delete in a second window reaches the first, and the browser never refetches the snapshot the server rendered
 * (screenshot in .tmp/example-nextjs.png, no console errors).
 *
 * Invariants:
 * - E1. The example gets the package only from the tarball at .tmp/live-shapes.tgz (its package.json points there),
 *   so it resolves one React, its own, like an app that installed live-shapes from the registry.
 * - E2. Whatever happens, the `next start` process group this script started is stopped before it exits.
 */
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const example = join(root, 'examples', 'nextjs')
const tmp = join(root, '.tmp')
const tarball = join(tmp, 'live-shapes.tgz')
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

const { values } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    port: { type: 'string', default: '3100' },
    tarball: { type: 'string' },
    'no-browser': { type: 'boolean', default: false },
    'refresh-lock': { type: 'boolean', default: false },
  },
})
const port = Number(values.port)
if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`--port must be a port number, got "${values.port}"`)
const origin = `http://127.0.0.1:${port}`
const SEEDED = ['Read the shape protocol', 'Render the list on the server', 'Hydrate without refetching', 'Watch a write come back live']

function fail(message) {
  console.error(`example: ${message}`)
  process.exit(1)
}

function step(message) {
  console.log(`\nexample: ${message}`)
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, env, stdio: 'inherit' })
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`)
}

function packTarball() {
  mkdirSync(tmp, { recursive: true })
  if (values.tarball !== undefined) {
    copyFileSync(resolve(values.tarball), tarball)
    return
  }
  step('building the package (tsup)')
  run('npx', ['tsup'], root)
  step('packing it into .tmp/')
  const pack = spawnSync('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: root, env, encoding: 'utf8' })
  if (pack.status !== 0) fail(`npm pack failed:\n${pack.stderr}`)
  const [{ filename }] = JSON.parse(pack.stdout)
  copyFileSync(join(tmp, filename), tarball)
}

/**
 * `npm ci` from the example's lockfile when node_modules is missing or older than it; otherwise only the package is
 * replaced (`--no-save`: neither package.json nor the lockfile changes). The lockfile carries no integrity for the
 * tarball, which changes with every build.
 */
function install() {
  if (values['refresh-lock']) {
    refreshLock()
    return
  }
  const installed = join(example, 'node_modules', '.package-lock.json')
  const lock = join(example, 'package-lock.json')
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
    step('installing the example (npm ci)')
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: example, env, stdio: 'inherit' })
    if (ci.status !== 0) fail('npm ci failed; if live-shapes\' dependencies changed, run again with --refresh-lock')
  } else {
    step('replacing live-shapes in the example with the new tarball')
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', tarball], example)
  }
}

/** `npm install` from scratch, then the tarball's integrity is dropped from the lockfile (see `install`). */
function refreshLock() {
  step('refreshing the example\'s lockfile (npm install)')
  const lock = join(example, 'package-lock.json')
  rmSync(lock, { force: true })
  rmSync(join(example, 'node_modules'), { recursive: true, force: true })
  run('npm', ['install', '--no-audit', '--no-fund'], example)
  const parsed = JSON.parse(readFileSync(lock, 'utf8'))
  delete parsed.packages['node_modules/live-shapes'].integrity
  writeFileSync(lock, `${JSON.stringify(parsed, null, 2)}\n`)
}

function portIsFree() {
  return new Promise((resolvePort) => {
    const probe = createServer()
    probe.once('error', () => resolvePort(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort(true)))
  })
}

/** Starts `next start` in its own process group; resolves once it printed that it is ready. */
function startServer() {
  const child = spawn(join(example, 'node_modules', '.bin', 'next'), ['start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: example,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // Already gone.
      }
    }
  }
  process.on('exit', stop)
  const ready = new Promise((resolveReady, rejectReady) => {
    let output = ''
    const onData = (chunk) => {
      process.stdout.write(chunk)
      output += chunk
      if (/Ready in/.test(output)) resolveReady()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => process.stderr.write(chunk))
    child.once('exit', (code, signal) => rejectReady(new Error(`next start exited (${code ?? signal}) before it was ready`)))
  })
  return { child, ready, stop }
}

function assert(condition, message) {
  if (!condition) throw new Error(message)
  console.log(`  ok  ${message}`)
}

async function checkHttp() {
  step(`checking ${origin}`)
  const page = await fetch(`${origin}/`)
  const html = await page.text()
  assert(page.status === 200, `GET / answers 200 (got ${page.status})`)
  for (const title of SEEDED) assert(html.includes(title), `the server-rendered HTML holds "${title}"`)
  assert(/data-item-id="1"/.test(html), 'the rows are rendered as list items on the server')

  const snapshot = await fetch(`${origin}/v1/shape?table=items&offset=-1`)
  const messages = await snapshot.json()
  const handle = snapshot.headers.get('electric-handle')
  let offset = snapshot.headers.get('electric-offset')
  assert(snapshot.status === 200 && handle !== null && offset !== null, 'GET /v1/shape serves a snapshot with a handle and offset')
  const inserts = messages.filter((message) => message.headers?.operation === 'insert')
  assert(inserts.length >= SEEDED.length, `the snapshot holds the seeded rows (${inserts.length} inserts)`)
  assert(snapshot.headers.get('electric-schema')?.includes('"payload":{"type":"jsonb"}') === true, 'the schema header describes the items table')

  // Catch up to the head, then hold a live request open and write: the write must come back on it.
  for (;;) {
    const response = await fetch(`${origin}/v1/shape?table=items&offset=${offset}&handle=${handle}`)
    const batch = await response.json()
    offset = response.headers.get('electric-offset')
    if (batch.some((message) => message.headers?.control === 'up-to-date')) break
  }
  const live = fetch(`${origin}/v1/shape?table=items&offset=${offset}&handle=${handle}&live=true`, {
    signal: AbortSignal.timeout(15_000),
  })
  const title = `Written by the check at ${new Date().toISOString()}`
  const write = await fetch(`${origin}/api/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title, priority: 3 }),
  })
  assert(write.status === 200, `POST /api/items answers 200 (got ${write.status})`)
  const change = await (await live).json()
  assert(
    change.some((message) => message.headers?.operation === 'insert' && message.value?.title === title),
    'the insert comes back on the live request',
  )
}

async function checkBrowser() {
  if (values['no-browser']) return
  if (!existsSync('/usr/bin/chromium')) {
    console.log('\nexample: /usr/bin/chromium not found, skipping the browser check')
    return
  }
  step('checking in Chromium')
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 640 } })
    const problems = []
    const snapshotRequests = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
    })
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`)
    })
    page.on('request', (request) => {
      if (request.url().includes('/v1/shape') && request.url().includes('offset=-1')) snapshotRequests.push(request.url())
    })
    await page.goto(origin, { waitUntil: 'load' })
    await page.evaluate(() => {
      window.__sameDocument = true
    })
    await page.locator('[data-testid="status"][data-phase="live"][data-transport="sse"]').waitFor({ timeout: 15_000 })
    assert(true, 'the status badge shows live · sse')
    const row = page.locator('li[data-item-id="2"]')
    const before = await row.getAttribute('data-done')
    await row.getByRole('checkbox').click()
    const after = before === 'true' ? 'false' : 'true'
    await page.locator(`li[data-item-id="2"][data-done="${after}"]`).waitFor({ timeout: 10_000 })
    assert(true, `clicking the checkbox of item 2 turns it done=${after} through the shape`)
    const other = await browser.newPage()
    other.on('pageerror', (error) => problems.push(`page error (second window): ${error.message}`))
    await other.goto(origin, { waitUntil: 'load' })
    await other.locator('[data-testid="status"][data-phase="live"]').waitFor({ timeout: 15_000 })
    await other.locator('li[data-item-id="3"]').getByRole('button').click()
    await page.locator('li[data-item-id="3"]').waitFor({ state: 'detached', timeout: 10_000 })
    assert(true, 'deleting item 3 in a second window removes it from the first')
    await other.close()
    const title = `Added in Chromium ${Date.now()}`
    await page.getByLabel('title', { exact: true }).fill(title)
    await page.getByRole('button', { name: 'Add' }).click()
    await page.getByText(title).waitFor({ timeout: 10_000 })
    assert(true, 'an item added with the form appears in the list')
    assert(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded')
    assert(snapshotRequests.length === 0, `the browser did not refetch the snapshot (offset=-1 requests: ${snapshotRequests.length})`)
    const screenshot = join(tmp, 'example-nextjs.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    console.log(`  screenshot: ${screenshot}`)
    assert(problems.length === 0, `no console errors or failed requests${problems.length ? `:\n    ${problems.join('\n    ')}` : ''}`)
  } finally {
    await browser.close()
  }
}

packTarball()
install()
step('next build')
run(join(example, 'node_modules', '.bin', 'next'), ['build'], example)
if (!(await portIsFree())) fail(`port ${port} is taken; pass --port <n>`)
step(`next start on ${origin}`)
const server = startServer()
try {
  await server.ready
} catch (error) {
  fail(error.message)
}

if (!values.check) {
  console.log(`\nexample: open ${origin} (Ctrl-C stops it)`)
  const forward = () => server.stop()
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  server.child.once('exit', (code) => process.exit(code ?? 0))
} else {
  const started = Date.now()
  let failed = false
  try {
    await checkHttp()
    await checkBrowser()
  } catch (error) {
    failed = true
    console.error(`\nexample: check failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  server.stop()
  console.log(`\nexample: check ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  process.exit(failed ? 1 : 0)
}
