#!/usr/bin/env node
/**
 * `npm start`: the dev shape server on an embedded PGlite with a seeded `items` table and a background writer, so
 * there is a live stream to look at. Prints a ready-to-paste `curl -N` of the SSE stream.
 *
 *   npm start                  # port 3000
 *   PORT=4000 npm start
 *
 * Builds `dist` first (`npx tsup`) when it is missing or older than `src`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cliPath = join(root, 'dist', 'server', 'cli.js')

/** Newest modification time under `dir`, in ms. */
function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

if (!existsSync(cliPath) || statSync(cliPath).mtimeMs < newest(join(root, 'src'))) {
  console.log('demo: dist/ is missing or older than src/, building it with tsup…')
  const build = spawnSync('npx', ['tsup'], { cwd: root, stdio: 'inherit' })
  // A failing type-declaration step still leaves the JavaScript the demo runs.
  if (!existsSync(cliPath) || statSync(cliPath).mtimeMs < newest(join(root, 'src'))) {
    console.error(`demo: the build did not produce ${cliPath} (tsup exit ${build.status})`)
    process.exit(1)
  }
}

const { startDevServer } = await import(pathToFileURL(cliPath).href)

const port = Number(process.env.PORT ?? 3000)
console.log('demo: starting PGlite (a few seconds)…')
const server = await startDevServer({ port })
const db = server.source.db

await db.exec(`
  CREATE TABLE items (
    id int8 PRIMARY KEY,
    title text NOT NULL,
    priority int4 NOT NULL,
    done bool NOT NULL DEFAULT false,
    payload jsonb
  );
  INSERT INTO items (id, title, priority, done, payload)
  SELECT n, 'Item ' || n, n % 5, n % 7 = 0, jsonb_build_object('tags', jsonb_build_array('demo', 'n' || n), 'weight', n * 1.5)
    FROM generate_series(1, 50) AS n;
`)

let nextId = 51
const pick = async () => {
  const { rows } = await db.query('SELECT id FROM items ORDER BY random() LIMIT 1')
  return rows[0]?.id
}

/** A few writes a second: mostly updates, sometimes an insert or a delete, keeping ~50 rows. */
async function write() {
  const roll = Math.random()
  const { rows } = await db.query('SELECT count(*)::int AS count FROM items')
  const count = rows[0]?.count ?? 0
  if (roll < 0.15 && count < 60) {
    const id = nextId++
    await db.query(
      `INSERT INTO items (id, title, priority, payload) VALUES ($1, $2, $3, jsonb_build_object('tags', jsonb_build_array('new')))`,
      [id, `Item ${id}`, Math.floor(Math.random() * 5)],
    )
  } else if (roll < 0.3 && count > 40) {
    const id = await pick()
    if (id !== undefined) await db.query('DELETE FROM items WHERE id = $1', [id])
  } else {
    const id = await pick()
    if (id === undefined) return
    await db.transaction(async (tx) => {
      await tx.query('UPDATE items SET priority = $2, done = NOT done WHERE id = $1', [id, Math.floor(Math.random() * 5)])
      await tx.query(`UPDATE items SET payload = jsonb_set(coalesce(payload, '{}'), '{touched}', to_jsonb(now()::text)) WHERE id = $1`, [id])
    })
  }
}

let writing = Promise.resolve()
const writer = setInterval(() => {
  writing = writing.then(write).catch((error) => console.error('demo: write failed:', error))
}, 400)

const shapeUrl = `${server.url}/v1/shape`
const position = await fetch(`${shapeUrl}?table=items&offset=now`)
const handle = position.headers.get('electric-handle')
const offset = position.headers.get('electric-offset')

console.log(`
live-shapes demo is running on ${shapeUrl} (PGlite in memory, table "items", ~50 rows, a writer changing a few a second)

Initial snapshot:
  curl -s '${shapeUrl}?table=items&offset=-1'

Live SSE stream from now on:
  curl -N '${shapeUrl}?table=items&handle=${handle}&offset=${offset}&live=true&live_sse=true'

Live long-poll (one batch per request):
  curl -s '${shapeUrl}?table=items&handle=${handle}&offset=${offset}&live=true'

Ctrl-C to stop.`)

let stopping = false
const stop = async (signal) => {
  if (stopping) process.exit(130)
  stopping = true
  console.log(`\ndemo: ${signal}, shutting down`)
  clearInterval(writer)
  await writing
  await server.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
