/**
 * `npm start` as a new user meets it: `scripts/demo.mjs` on a free port prints one URL once PGlite has booted, and that
 * URL serves the demo page, the shape endpoint and the demo API from one process; in Chromium the page shows the
 * live table with its badge saying `live`, and the request panel shows what the client asked for.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

let demo: ChildProcess
let url: string
let output = ''

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

  it('renders the live table in Chromium: rows, a live badge, the requests, a row added through the form, a 409', async () => {
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
      await page.getByRole('button', { name: 'Add' }).click()
      await page.getByRole('cell', { name: 'Written from the test' }).waitFor()

      await page.getByRole('button', { name: /Invalidate the shape/ }).click()
      await page.getByTestId('requests').locator('tr.kind-snapshot').nth(1).waitFor()
      await page.getByTestId('status-phase').filter({ hasText: /^live$/ }).waitFor()
      await page.getByRole('cell', { name: 'Written from the test' }).waitFor()

      expect(await page.locator('body').innerText()).not.toMatch(/\/v1\/shape\?/)
      expect(errors).toEqual([])
    } finally {
      await browser?.close()
    }
  })

  it('starts and stops the writer, refuses bad rows with a 400, and simulates an outage that drops held requests', async () => {
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(((await (await post('/api/writer', { running: false })).json()) as { writer: { running: boolean } }).writer.running).toBe(false)
    const bad = await post('/api/items', { title: '' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { message: string }).message).toMatch(/title/)
    expect((await post('/api/items/999999', { title: 'x' }, 'PATCH')).status).toBe(404)

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
