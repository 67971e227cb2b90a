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
 * /api/items answers its txid and comes back on a live request carrying it; /streaming streams the rows with their
 * state; the forms work as plain HTML posts (303 back to the page, a refused title comes back as ?error=); and, in
 * Chromium, a click that writes changes the row without a reload, a delete in a second window reaches the first, an
 * added row shows before the write's response and a refused one disappears again with a message, /streaming hydrates
 * and goes live without an offset=-1 request, the forms work with JavaScript disabled, and the browser never
 * refetches the snapshot the server rendered (screenshot in .tmp/example-nextjs.png, no console errors).
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
const QUEUE = '__liveShapesStreamedHydration'

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
    // PORT: where the streamed page's server-side client reaches the shape route (lib/origin.ts).
    env: { ...env, PORT: String(port) },
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
  const answer = await write.json()
  assert(/^\d+$/.test(answer.txid ?? ''), `POST /api/items answers the txid of its transaction (${answer.txid})`)
  const txids = change.find((message) => message.value?.title === title)?.headers?.txids ?? []
  assert(txids.map(String).includes(answer.txid), `the change carries that txid in its txids header (${JSON.stringify(txids)})`)

  await checkStreamedHttp()
  await checkFormsWithoutJavaScript()
}

async function checkStreamedHttp() {
  const page = await fetch(`${origin}/streaming`)
  const html = await page.text()
  assert(page.status === 200, `GET /streaming answers 200 (got ${page.status})`)
  for (const title of SEEDED.slice(0, 2)) assert(html.includes(title), `the streamed HTML of /streaming holds "${title}"`)
  const script = html.indexOf(`${QUEUE}=`)
  assert(script > 0 && script < html.indexOf(SEEDED[1]), 'the streamed HTML carries the shape state in a script before the rows')
}

/** The forms as a browser without JavaScript posts them: form-encoded, answered by a 303 back to the page. */
async function postForm(fields) {
  const response = await fetch(`${origin}/api/items/form`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  })
  return { status: response.status, location: response.headers.get('location') ?? '' }
}

function rowOf(html, title) {
  const row = html.split('<li ').find((part) => part.includes(`>${title}<`))
  return row === undefined ? undefined : { id: /data-item-id="(\d+)"/.exec(row)?.[1], done: /data-done="(\w+)"/.exec(row)?.[1] }
}

async function checkFormsWithoutJavaScript() {
  const title = `Posted without JavaScript ${Date.now()}`
  const added = await postForm({ intent: 'add', title, priority: '2', returnTo: '/' })
  assert(added.status === 303 && added.location === '/', `the add form's POST answers 303 to / (got ${added.status} ${added.location})`)
  let row = rowOf(await (await fetch(`${origin}/`)).text(), title)
  assert(row?.id !== undefined && row.done === 'false', 'the page it redirects to shows the added row')
  const toggled = await postForm({ intent: 'toggle', id: row.id, returnTo: '/streaming' })
  assert(toggled.status === 303 && toggled.location === '/streaming', `the toggle form answers 303 to /streaming (got ${toggled.status} ${toggled.location})`)
  row = rowOf(await (await fetch(`${origin}/streaming`)).text(), title)
  assert(row?.done === 'true', 'the page it redirects to shows the row done')
  const deleted = await postForm({ intent: 'delete', id: row.id, returnTo: '/' })
  assert(deleted.status === 303, `the delete form answers 303 (got ${deleted.status})`)
  assert(rowOf(await (await fetch(`${origin}/`)).text(), title) === undefined, 'the page it redirects to no longer shows the row')
  const refused = await postForm({ intent: 'add', title: 'A forbidden title', returnTo: '/' })
  assert(refused.status === 303 && refused.location.startsWith('/?error='), `a title the database refuses redirects with ?error= (got ${refused.location})`)
  const shown = await (await fetch(`${origin}${refused.location}`)).text()
  assert(/data-testid="form-error"[^>]*>[^<]*refused/.test(shown) && !shown.includes('>A forbidden title<'), 'the page shows why, and no such row')
  const outside = await postForm({ intent: 'add', title: 'Elsewhere', returnTo: 'https://example.com/' })
  assert(outside.location === '/', 'returnTo cannot redirect off the app')
  const cleanup = rowOf(await (await fetch(`${origin}/`)).text(), 'Elsewhere')
  if (cleanup?.id !== undefined) await postForm({ intent: 'delete', id: cleanup.id, returnTo: '/' })
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
    const expected = new Set()
    const snapshotRequests = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      // The refused write's 422 is logged by the browser as a failed resource: expected once the test asks for it.
      if (message.type() === 'error' && !(expected.has('/api/items 422') && /status of 422/.test(message.text()))) {
        problems.push(`console error: ${message.text()}`)
      }
    })
    page.on('response', (response) => {
      const url = new URL(response.url())
      if (response.status() >= 400 && !expected.has(`${url.pathname} ${response.status()}`)) problems.push(`${response.status()} ${response.url()}`)
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
    // Optimistic add: the write's response is held back until the row is on screen.
    const title = `Added in Chromium ${Date.now()}`
    let shown
    const rowShown = new Promise((resolveShown) => {
      shown = resolveShown
    })
    await page.route('**/api/items', async (route) => {
      await rowShown
      await route.continue()
    })
    await page.getByLabel('title', { exact: true }).fill(title)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    const added = page.locator('li.item', { hasText: title })
    await page.locator('li.item[data-pending="true"]', { hasText: title }).waitFor({ timeout: 10_000 })
    assert(true, 'an item added with the form appears at once, marked pending, before the write answered')
    shown()
    await page.locator('li.item[data-pending="false"]', { hasText: title }).waitFor({ timeout: 10_000 })
    assert(true, 'it stays, no longer pending, once the stream confirmed the write\'s txid')

    // A write the database refuses: shown, then rolled back with the server's message.
    const refusedTitle = `A forbidden title ${Date.now()}`
    let refusedShown
    const refusedRowShown = new Promise((resolveShown) => {
      refusedShown = resolveShown
    })
    await page.unroute('**/api/items')
    await page.route('**/api/items', async (route) => {
      await refusedRowShown
      await route.continue()
    })
    expected.add('/api/items 422')
    await page.getByLabel('title', { exact: true }).fill(refusedTitle)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.locator('li.item[data-pending="true"]', { hasText: refusedTitle }).waitFor({ timeout: 10_000 })
    refusedShown()
    await page.locator('li.item', { hasText: refusedTitle }).waitFor({ state: 'detached', timeout: 10_000 })
    const message = await page.getByTestId('add-error').textContent()
    assert(/refused/.test(message ?? ''), `a refused write appears, then disappears with a message ("${message}")`)
    await page.unroute('**/api/items')
    assert((await added.count()) === 1, 'the confirmed row is still there')
    assert(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded')
    assert(snapshotRequests.length === 0, `the browser did not refetch the snapshot (offset=-1 requests: ${snapshotRequests.length})`)
    const screenshot = join(tmp, 'example-nextjs.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    console.log(`  screenshot: ${screenshot}`)
    await checkStreamedPage(browser, problems)
    await checkWithoutJavaScript(browser)
    assert(problems.length === 0, `no console errors or failed requests${problems.length ? `:\n    ${problems.join('\n    ')}` : ''}`)
  } finally {
    await browser.close()
  }
}

/** /streaming in Chromium: rows in the streamed HTML, no snapshot request from the browser, live afterwards. */
async function checkStreamedPage(browser, problems) {
  const page = await browser.newPage({ viewport: { width: 800, height: 640 } })
  const snapshotRequests = []
  page.on('pageerror', (error) => problems.push(`page error (/streaming): ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error (/streaming): ${message.text()}`)
  })
  page.on('request', (request) => {
    if (request.url().includes('/v1/shape') && request.url().includes('offset=-1')) snapshotRequests.push(request.url())
  })
  const response = await page.goto(`${origin}/streaming`, { waitUntil: 'load' })
  const html = await response.text()
  assert(html.includes(SEEDED[1]) && html.includes(`${QUEUE}=`), '/streaming in Chromium: the streamed HTML holds the rows and their state')
  await page.locator('[data-testid="status"][data-phase="live"]').waitFor({ timeout: 15_000 })
  assert(await page.getByText(SEEDED[1]).isVisible(), '/streaming hydrates the streamed rows and goes live')
  const title = `Streamed live ${Date.now()}`
  await fetch(`${origin}/api/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title, priority: 1 }),
  })
  await page.getByText(title).waitFor({ timeout: 10_000 })
  assert(true, '/streaming: a write made elsewhere arrives live')
  assert(snapshotRequests.length === 0, `/streaming: the browser did not fetch the snapshot (offset=-1 requests: ${snapshotRequests.length})`)
  await page.close()
}

/**
 * The forms in Chromium with JavaScript disabled, on the prefetched page: plain form posts, redirected back. (The
 * streamed page needs JavaScript to show its rows at all: React reveals a streamed Suspense boundary with an inline
 * script.)
 */
async function checkWithoutJavaScript(browser) {
  const context = await browser.newContext({ javaScriptEnabled: false })
  try {
    const page = await context.newPage()
    await page.goto(`${origin}/`, { waitUntil: 'load' })
    const title = `Added without JavaScript ${Date.now()}`
    await page.getByLabel('title', { exact: true }).fill(title)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByText(title).waitFor({ timeout: 10_000 })
    assert(true, 'with JavaScript disabled, the add form posts, is redirected back, and the page shows the row')
    const row = page.locator('li.item', { hasText: title })
    // The page is already at / : wait for what the reloaded page shows, not for the URL.
    await row.getByRole('checkbox').click()
    await page.locator('li.item[data-done="true"]', { hasText: title }).waitFor({ timeout: 10_000 })
    assert(true, 'with JavaScript disabled, its toggle marks it done')
    await page.locator('li.item', { hasText: title }).getByRole('button', { name: `delete ${title}` }).click()
    await page.locator('li.item', { hasText: title }).waitFor({ state: 'detached', timeout: 10_000 })
    assert(true, 'with JavaScript disabled, its delete button deletes it')
  } finally {
    await context.close()
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
