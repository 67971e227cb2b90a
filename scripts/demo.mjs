#!/usr/bin/env node
/**
 * `npm start`: one process and one port serving the dev shape server on an embedded PGlite (a live `items` table with
 * a writer) and the demo page built with this package (`demo/`). Prints one URL, once PGlite has booted and the page
 * is built.
 *
 *   npm start                  # http://127.0.0.1:3000/
 *   PORT=4000 npm start        # PORT=0 picks a free port
 *
 * Builds `dist` first (`npx tsup`) when it is missing or older than `src`; builds the page with Vite into
 * `.tmp/demo-page` (gitignored) when `demo/` or `src/` changed since the last build, while PGlite boots.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const distDir = join(root, 'dist')
const serverEntry = join(distDir, 'server', 'index.js')
const pageDir = join(root, '.tmp', 'demo-page')

/** Newest modification time under `dir`, in ms. */
function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

const stale = () => !existsSync(serverEntry) || statSync(serverEntry).mtimeMs < newest(join(root, 'src'))
if (stale()) {
  console.log('demo: dist/ is missing or older than src/, building it with tsup…')
  const build = spawnSync('npx', ['tsup'], { cwd: root, stdio: 'inherit' })
  // A failing type-declaration step still leaves the JavaScript the demo runs.
  if (stale()) {
    console.error(`demo: the build did not produce ${serverEntry} (tsup exit ${build.status})`)
    process.exit(1)
  }
}

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
console.log('demo: booting PGlite and building the page (a few seconds)…')

const { buildDemoPage } = await import('../demo/build.mjs')
const { createDemoServer } = await import('../demo/server/demoServer.mjs')

/** Builds the page unless it was built from the same sources (the stamp is their newest modification time). */
async function pageBuilt() {
  const stampFile = join(pageDir, '.built-from')
  const stamp = String(Math.max(newest(join(root, 'demo')), newest(join(root, 'src'))))
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return
  await buildDemoPage(pageDir)
  writeFileSync(stampFile, stamp)
}

const [built, started] = await Promise.allSettled([pageBuilt(), createDemoServer({ port, host, pageDir, distDir })])
if (built.status === 'rejected' || started.status === 'rejected') {
  if (started.status === 'fulfilled') await started.value.close()
  const error = built.status === 'rejected' ? built.reason : started.status === 'rejected' ? started.reason : undefined
  if (error?.code === 'EADDRINUSE') console.error(`demo: port ${port} is in use; try PORT=4000 npm start`)
  else console.error('demo: could not start:', error)
  process.exit(1)
}
const server = started.value

console.log(`
live-shapes demo ready: ${server.url}/

  Open it to see the "items" table live. The shape endpoint is /v1/shape on the same port (curl lines in the README).
  Ctrl-C to stop.`)

let stopping = false
const stop = async (signal) => {
  if (stopping) process.exit(130)
  stopping = true
  console.log(`\ndemo: ${signal}, shutting down`)
  await server.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
