#!/usr/bin/env node
/**
 * Runs every story of the BUILT Storybook (`storybook-static/`, from `npm run build-storybook`) in Debian's Chromium:
 * each story's `iframe.html` is loaded as a user's browser would load it, and its render and `play` function must
 * finish with success; each docs page (the introduction, autodocs) must render without an error. This is the static build's check: the Vitest addon runs the stories on Vite's dev server,
 * whose timing differs (a play that races the first render can pass there and fail here).
 *
 *   node scripts/test-storybook-static.mjs                  # every story once
 *   node scripts/test-storybook-static.mjs --repeat 5 status-badge   # stories whose id contains "status-badge", 5 times
 *
 * Prints one line per failure and a closing "N passed, N failed"; exits 1 when any failed.
 */
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..')
const staticDir = join(root, 'storybook-static')
const CONCURRENCY = 2
const STORY_TIMEOUT_MS = 20_000
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

const args = process.argv.slice(2)
const repeatAt = args.indexOf('--repeat')
const repeat = repeatAt === -1 ? 1 : Number(args.splice(repeatAt, 2)[1])
const filter = args[0]

if (!existsSync(join(staticDir, 'index.json'))) {
  console.error('storybook-static/index.json is missing: run `npm run build-storybook` first.')
  process.exit(1)
}

const index = JSON.parse(await readFile(join(staticDir, 'index.json'), 'utf8'))
const stories = Object.values(index.entries).filter(
  (entry) => (entry.type === 'story' || entry.type === 'docs') && (!filter || entry.id.includes(filter)),
)
if (stories.length === 0) {
  console.error(`No story${filter ? ` matches "${filter}"` : ''} in storybook-static/index.json.`)
  process.exit(1)
}

const server = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).slice(1) || 'index.html')
  const file = join(staticDir, path)
  if (path.startsWith('..') || !file.startsWith(staticDir + sep)) return void response.writeHead(404).end()
  try {
    const body = await readFile(file)
    // Cacheable, so every story after the first reuses the parsed bundle (the build does not change during a run).
    response
      .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'max-age=3600' })
      .end(body)
  } catch {
    response.writeHead(404).end()
  }
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
const base = `http://127.0.0.1:${server.address().port}`

// Installed before Storybook's preview runs: records the outcome events of its channel as soon as it exists.
function recordOutcome() {
  const outcome = { done: false, status: undefined, errors: [] }
  window.__storyOutcome = outcome
  const listen = (channel) => {
    // Testing Library appends the whole DOM to its messages: the first lines say what failed.
    const brief = (text) => String(text).split('\n\nIgnored nodes')[0].slice(0, 800)
    const fail = (kind) => (error) => outcome.errors.push(`${kind}: ${brief(error?.message ?? error?.description ?? JSON.stringify(error))}`)
    channel.on('playFunctionThrewException', fail('play'))
    channel.on('storyThrewException', fail('render'))
    channel.on('storyErrored', fail('story'))
    channel.on('storyMissing', fail('missing'))
    channel.on('unhandledErrorsWhilePlaying', (errors) => fail('unhandled')({ message: errors.map((e) => e.message).join('; ') }))
    channel.on('storyFinished', ({ status }) => {
      outcome.status = status
      outcome.done = true
    })
    channel.on('docsRendered', () => {
      outcome.status = 'success'
      outcome.done = true
    })
  }
  let channel
  Object.defineProperty(globalThis, '__STORYBOOK_ADDONS_CHANNEL__', {
    configurable: true,
    get: () => channel,
    set(next) {
      channel = next
      listen(next)
    },
  })
}

async function runStory(context, story) {
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  try {
    await page.goto(`${base}/iframe.html?id=${encodeURIComponent(story.id)}&viewMode=${story.type}`)
    await page.waitForFunction(() => window.__storyOutcome?.done || window.__storyOutcome?.errors.length > 0, undefined, {
      timeout: STORY_TIMEOUT_MS,
    })
    const outcome = await page.evaluate(() => window.__storyOutcome)
    const errors = [...outcome.errors, ...pageErrors.map((message) => `page: ${message}`)]
    // Storybook's MDX has no GFM: a Markdown table renders as its raw pipes, which renders "successfully".
    if (story.type === 'docs' && /\|\s*:?-{3,}:?\s*\|/.test(await page.locator('body').innerText())) {
      errors.push('docs: a Markdown table is shown as raw text (MDX without GFM): write it as a list or an HTML table')
    }
    return { ok: outcome.status === 'success' && errors.length === 0, errors }
  } catch (error) {
    return { ok: false, errors: [...pageErrors, `did not finish: ${error.message.split('\n')[0]}`] }
  } finally {
    await page.close()
  }
}

const started = Date.now()
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
const context = await browser.newContext({ viewport: { width: 1000, height: 800 } })
await context.addInitScript(recordOutcome)
const queue = Array.from({ length: repeat }, () => stories).flat()
let passed = 0
let failed = 0
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let story = queue.shift(); story !== undefined; story = queue.shift()) {
      const began = Date.now()
      const result = await runStory(context, story)
      if (process.env.STORY_TIMES) console.log(`${Date.now() - began} ms ${story.id}`)
      if (result.ok) passed += 1
      else {
        failed += 1
        console.error(`✗ ${story.title} / ${story.name} (${story.id})\n    ${result.errors.join('\n    ')}`)
      }
    }
  }),
)
await browser.close()
server.close()
console.log(`storybook-static: ${stories.length} stories and docs pages × ${repeat} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
