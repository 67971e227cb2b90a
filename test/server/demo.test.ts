/**
 * `npm start` as a new user meets it: `scripts/demo.mjs` on a free port prints one URL once PGlite has booted, and that
 * URL serves the demo page, the shape endpoint and the demo API from one process; in Chromium the page shows the
 * live table with its badge saying `live`, and the request panel shows what the client asked for. Writes from the
 * page are optimistic (shown before the server answers, confirmed by txid, rolled back with a message when refused),
 * and the badge's Retry button ends a retry wait at once.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

let demo: ChildProcess
let url: string
let output = ''

/**
 * Holds the response to the page's next request to `path` (the server has written by then, the page has not heard):
 * `written` resolves once the server answered, `release()` lets the answer through, `delivered()` says whether it did.
 */
async function holdNextResponse(page: Page, path: string) {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let answered!: () => void
  const written = new Promise<void>((resolve) => (answered = resolve))
  let delivered = false
  await page.route(
    (address) => address.pathname === path,
    async (route) => {
      const response = await route.fetch()
      answered()
      await released
      await route.fulfill({ response })
      delivered = true
    },
    { times: 1 },
  )
  return { written, release, delivered: () => delivered }
}

/** Every row's render count, by its test id. */
async function renderCounts(page: Page): Promise<Map<string, string>> {
  const cells = page.locator('td.renders')
  const counts = new Map<string, string>()
  for (const cell of await cells.all()) counts.set((await cell.getAttribute('data-testid')) ?? '', await cell.innerText())
  return counts
}

/** Resolves with the URL the demo prints when it is ready; rejects if it exits first. */
function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /demo ready: (http:\/\/\S+?)\/\s/.exec(output)
      if (match?.[1]) resolve(match[1])
    })
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => reject(new Error(`demo exited (${code}) before ready:\n${output}`)))
  })
}

beforeAll(async () => {
  demo = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  url = await readyUrl(demo)
}, 90_000)

afterAll(async () => {
  if (demo.exitCode === null) {
    const exited = once(demo, 'exit')
    demo.kill('SIGTERM')
    await exited
  }
})

describe('npm start', () => {
  it('prints one URL, and only once the shape endpoint answers', async () => {
    expect(output.match(/https?:\/\/\S+/g)).toEqual([`${url}/`])
    expect(output).not.toMatch(/curl -/)
    const snapshot = await fetch(`${url}/v1/shape?table=items&offset=-1`)
    expect(snapshot.status).toBe(200)
    const rows = (await snapshot.json()) as { headers: { operation?: string } }[]
    expect(rows.filter((message) => message.headers.operation === 'insert').length).toBeGreaterThan(10)
  })

  it('serves the page and its assets from the same port', async () => {
    const page = await fetch(`${url}/`)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const html = await page.text()
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    expect((await fetch(`${url}${script}`)).headers.get('content-type')).toMatch(/javascript/)
    expect((await fetch(`${url}/../package.json`)).status).toBe(404)
  })

  it('renders the live table in Chromium: rows, a live badge, the requests, a row added through the form, a 409, the long-poll switch, the writer button', async () => {
    let browser: Browser | undefined
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await fetch(`${url}/api/writer`, { method: 'POST', body: JSON.stringify({ running: false }) })
      await page.goto(`${url}/`)
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()
      expect(await page.locator('tbody tr[data-testid^="row-"]').count()).toBeGreaterThan(10)
      const renders = () => page.locator('td.renders').allInnerTexts()
      expect(new Set(await renders())).toEqual(new Set(['1']))
      await fetch(`${url}/api/items/2`, { method: 'PATCH', body: JSON.stringify({ title: 'Edited by the test' }) })
      await page.getByRole('cell', { name: 'Edited by the test' }).waitFor()
      await expect(page.getByTestId('renders-2').innerText()).resolves.toBe('2')
      expect((await renders()).filter((count) => count !== '1')).toEqual(['2'])
      await expect(page.getByTestId('requests').locator('tr.kind-snapshot').count()).resolves.toBe(1)
      await page.getByTestId('requests').locator('tr.kind-sse').first().waitFor()

      await page.getByLabel('Title').fill('Written from the test')
      await page.getByRole('button', { name: 'Add', exact: true }).click()
      await page.getByRole('cell', { name: 'Written from the test' }).waitFor()

      await page.getByRole('button', { name: /Invalidate the shape/ }).click()
      await page.getByTestId('requests').locator('tr.kind-snapshot').nth(1).waitFor()
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()
      await page.getByRole('cell', { name: 'Written from the test' }).waitFor()

      // The transport switch: a new client on long-polling, live again, its held requests listed with their offsets.
      await page.getByLabel('long-polling').check()
      await page.getByTestId('status-transport').filter({ hasText: /^long-poll$/ }).waitFor()
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()
      const longPolls = page.getByTestId('requests').locator('tr.kind-long-poll')
      await longPolls.first().waitFor()
      await fetch(`${url}/api/items/2`, { method: 'PATCH', body: JSON.stringify({ title: 'Edited over long-polling' }) })
      await page.getByRole('cell', { name: 'Edited over long-polling' }).waitFor()
      await expect(longPolls.first().locator('td code').innerText()).resolves.toMatch(/^\d+_\d+$/)

      // The writer's button: another user's writes re-render rows until it is stopped again.
      const rendersBefore = (await renders()).reduce((sum, count) => sum + Number(count), 0)
      await page.getByRole('button', { name: 'Start the writer' }).click()
      await page.getByTestId('writer-state').filter({ hasText: /^writing every \d+ ms$/ }).waitFor()
      await page.waitForFunction(
        (before) => [...document.querySelectorAll('td.renders')].reduce((sum, cell) => sum + Number(cell.textContent), 0) > before,
        rendersBefore,
      )
      await page.getByRole('button', { name: 'Stop the writer' }).click()
      await page.getByTestId('writer-state').filter({ hasText: /^writer stopped$/ }).waitFor()

      expect(await page.locator('body').innerText()).not.toMatch(/\/v1\/shape\?/)
      expect(errors).toEqual([])
    } finally {
      await browser?.close()
    }
  }, 60_000)

  it('writes optimistically: the row shows before the response and re-renders alone; a refused write rolls back with its message; Retry ends an outage wait', async () => {
    let browser: Browser | undefined
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
      const context = await browser.newContext()
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await fetch(`${url}/api/writer`, { method: 'POST', body: JSON.stringify({ running: false }) })
      await page.goto(`${url}/`)
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()
      // Rows the (now stopped) writer left: one to edit, one to mark done, one to delete.
      const ids = (await page.locator('tbody tr td:first-child').allInnerTexts()).filter((id) => Number(id) < 100)
      const [editId, toggleId, deleteId] = ids
      expect(deleteId).toBeDefined()

      // Add: the row is on screen, marked saving…, while the server's answer (with its txid) is held.
      const before = await renderCounts(page)
      const add = await holdNextResponse(page, '/api/items')
      await page.getByLabel('Title').fill('Optimistic row')
      await page.getByRole('button', { name: 'Add', exact: true }).click()
      const added = page.locator('tbody tr').filter({ hasText: 'Optimistic row' })
      await added.and(page.locator('tr[data-pending="true"]')).waitFor()
      await expect(added.innerText()).resolves.toMatch(/saving…/)
      await add.written
      expect(add.delivered()).toBe(false)
      add.release()
      await added.and(page.locator('tr[data-pending="false"]')).waitFor()
      await expect(added.count()).resolves.toBe(1) // the optimistic and the confirmed row share the page's id
      const addedId = ((await added.getAttribute('data-testid')) ?? '').replace('row-', '')
      // A new shape (its own where) snapshots the table now.
      const where = encodeURIComponent("title = 'Optimistic row'")
      const confirmed = (await (await fetch(`${url}/v1/shape?table=items&offset=-1&where=${where}`)).json()) as { value?: { id: string; title: string } }[]
      expect(confirmed.find((message) => message.value?.title === 'Optimistic row')?.value?.id).toBe(addedId)
      const afterAdd = await renderCounts(page)
      for (const [id, count] of before) expect(afterAdd.get(id), id).toBe(count)

      // Edit through the form: only that row re-renders, the table does not.
      const beforeEdit = await renderCounts(page)
      const tableRenders = await page.getByTestId('table-renders').innerText()
      const edit = await holdNextResponse(page, `/api/items/${editId}`)
      await page.getByRole('button', { name: `Edit item ${editId}`, exact: true }).click()
      await page.getByLabel('Title').fill('Edited optimistically')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByTestId(`saving-${editId}`).waitFor()
      await expect(page.getByTestId(`row-${editId}`).innerText()).resolves.toMatch(/Edited optimistically/)
      expect(edit.delivered()).toBe(false)
      edit.release()
      await page.getByTestId(`saving-${editId}`).waitFor({ state: 'detached' })
      const afterEdit = await renderCounts(page)
      for (const [id, count] of beforeEdit) if (id !== `renders-${editId}`) expect(afterEdit.get(id), id).toBe(count)
      expect(Number(afterEdit.get(`renders-${editId}`))).toBeGreaterThan(Number(beforeEdit.get(`renders-${editId}`)))
      await expect(page.getByTestId('table-renders').innerText()).resolves.toBe(tableRenders)

      // Toggle done and delete from the row, each confirmed by the stream.
      const wasDone = (await page.getByTestId(`row-${toggleId}`).getAttribute('class'))?.includes('done') ?? false
      await page.getByLabel(`Item ${toggleId} done`, { exact: true }).click()
      await page.locator(`tr[data-testid="row-${toggleId}"][data-pending="false"]${wasDone ? ':not(.done)' : '.done'}`).waitFor()
      await page.getByRole('button', { name: `Delete item ${deleteId}`, exact: true }).click()
      await page.getByTestId(`row-${deleteId}`).waitFor({ state: 'detached' })

      // A write the database refuses (the CHECK on "forbidden"): shown, then rolled back, with the message.
      const refused = await holdNextResponse(page, '/api/items')
      await page.getByLabel('Title').fill('A forbidden title')
      await page.getByRole('button', { name: 'Add', exact: true }).click()
      const refusedRow = page.locator('tbody tr').filter({ hasText: 'A forbidden title' })
      await refusedRow.and(page.locator('tr[data-pending="true"]')).waitFor()
      await refused.written
      refused.release()
      await refusedRow.waitFor({ state: 'detached' })
      await expect(page.getByTestId('write-error').innerText()).resolves.toMatch(/Adding "A forbidden title" rolled back: .*forbidden/)

      // Offline: the badge says so, and going back online resumes live.
      await context.setOffline(true)
      await page.getByTestId('status-offline').waitFor()
      await context.setOffline(false)
      await page.getByTestId('status-offline').waitFor({ state: 'detached' })
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()

      // An outage answering `retry-after` up to 15 s: the badge counts down; once the endpoint is back, Retry is live within 1 s.
      await page.getByRole('button', { name: /Simulate an outage/ }).click()
      await page.getByText(/^The shape endpoint answers 503 for 15 s \(until \S.*\)\.$/).waitFor()
      await page.getByTestId('status-phase').filter({ hasText: /^retrying$/ }).waitFor()
      await page.getByTestId('status-retry').waitFor()
      await expect(page.getByTestId('status-error-http').innerText()).resolves.toBe('503')
      await page.getByRole('button', { name: 'End the outage' }).click()
      await page.getByText('The shape endpoint answers again').waitFor()
      await expect(page.getByTestId('status-phase').innerText()).resolves.toBe('retrying')
      await page.getByRole('button', { name: 'Retry now' }).click()
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor({ timeout: 1000 })
      await page.getByRole('button', { name: 'Retry now' }).waitFor({ state: 'detached' })

      expect(await page.locator('body').innerText()).not.toMatch(/https?:\/\/|\/v1\/shape\?/)
      expect(errors).toEqual([])
    } finally {
      await browser?.close()
    }
  }, 60_000)

  it('starts and stops the writer, refuses bad rows with a 400, and simulates an outage that drops held requests', async () => {
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(((await (await post('/api/writer', { running: false })).json()) as { writer: { running: boolean } }).writer.running).toBe(false)
    const bad = await post('/api/items', { title: '' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { message: string }).message).toMatch(/title/)
    expect((await post('/api/items/999999', { title: 'x' }, 'PATCH')).status).toBe(404)
    expect((await post('/api/items', { id: 0, title: 'x' })).status).toBe(400)
    const created = await post('/api/items', { id: 500, title: 'Chosen id' })
    expect(created.status).toBe(201)
    const { id, txid } = (await created.json()) as { id: number; txid: string }
    expect(id).toBe(500)
    expect(txid).toMatch(/^\d+$/)
    const taken = await post('/api/items', { id: 500, title: 'Again' })
    expect(taken.status).toBe(409)
    expect(((await taken.json()) as { message: string }).message).toMatch(/already exists/)
    const forbidden = await post('/api/items', { id: 501, title: 'Forbidden' })
    expect(forbidden.status).toBe(422)
    expect(((await forbidden.json()) as { message: string }).message).toMatch(/forbidden/)
    // The writer's identity default never hands out an id the page chose.
    const auto = (await (await post('/api/items', { title: 'Server-chosen id' })).json()) as { id: number }
    expect(auto.id).toBeGreaterThan(500)
    const removed = await fetch(`${url}/api/items/500`, { method: 'DELETE' })
    expect(removed.status).toBe(200)
    expect(((await removed.json()) as { txid: string }).txid).toMatch(/^\d+$/)
    expect((await fetch(`${url}/api/items/500`, { method: 'DELETE' })).status).toBe(404)

    const head = await fetch(`${url}/v1/shape?table=items&offset=now`)
    const position = `handle=${head.headers.get('electric-handle')}&offset=${head.headers.get('electric-offset')}`
    const held = fetch(`${url}/v1/shape?table=items&${position}&live=true`)
    expect((await post('/api/outage', { seconds: 1 })).status).toBe(200)
    const dropped = await held
    expect(dropped.status).toBe(503)
    expect(dropped.headers.get('retry-after')).toBe('1')
    expect((await post('/api/outage', { seconds: 0 })).status).toBe(400)
    expect(((await (await post('/api/writer', { running: true })).json()) as { writer: { running: boolean } }).writer.running).toBe(true)
  })
})
