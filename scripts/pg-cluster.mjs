#!/usr/bin/env node
/**
 * A throwaway, project-local PostgreSQL cluster for the logical-replication source and its tests.
 *
 *   node scripts/pg-cluster.mjs start [--dir .pgdata] [--port 54329]   prints DATABASE_URL
 *   node scripts/pg-cluster.mjs stop  [--dir .pgdata]
 *
 * Invariants:
 * - Every start is a fresh `initdb` (fsync off, wal_level=logical): tests never see an earlier run's data.
 * - The port is checked free before start, and the server reached afterwards must report our data directory:
 *   another PostgreSQL on the machine is never mistaken for ours.
 * - initdb and postgres refuse to run as root: as root they run through `runuser -u postgres` on a data dir
 *   owned by postgres; as any other user they run directly.
 * - Missing binaries are an error naming the apt package, never a silent skip.
 */
import { execFile } from 'node:child_process'
import { access, chown, mkdir, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Where Debian's PostgreSQL 15 puts its server binaries; override with PG_BIN. */
export const DEFAULT_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
export const DEFAULT_PORT = 54329
export const DEFAULT_DIR = '.pgdata'

/** True when initdb, pg_ctl and postgres are installed at `bin`. */
export async function hasBinaries(bin = DEFAULT_BIN) {
  try {
    await Promise.all(['initdb', 'pg_ctl', 'postgres'].map((name) => access(`${bin}/${name}`)))
    return true
  } catch {
    return false
  }
}

/** Resolves when nothing listens on 127.0.0.1:port, rejects with a clear message otherwise. */
export function assertPortFree(port) {
  return new Promise((resolvePromise, reject) => {
    const server = createServer()
    server.once('error', (error) =>
      reject(new Error(`port ${port} is taken (${error.code}): pick another with --port / PG_PORT`)),
    )
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolvePromise()))
  })
}

/** First port from `from` (inclusive) that is free on 127.0.0.1, trying `attempts` ports. */
export async function findFreePort(from = DEFAULT_PORT, attempts = 50) {
  for (let port = from; port < from + attempts; port++) {
    try {
      await assertPortFree(port)
      return port
    } catch {
      // taken: try the next one
    }
  }
  throw new Error(`no free port in ${from}..${from + attempts - 1}`)
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

function asPostgres(command, args) {
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args)
}

async function ownForPostgres(dir) {
  if (!isRoot()) return
  const { stdout } = await run('id', ['-u', 'postgres'])
  const { stdout: gid } = await run('id', ['-g', 'postgres'])
  await chown(dir, Number(stdout.trim()), Number(gid.trim()))
}

async function exists(path) {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * Initializes and starts a cluster in `dir` on `port`; returns its URL and a `stop()`.
 * @param {{ dir?: string, port?: number, bin?: string }} [options]
 * @returns {Promise<{ url: string, dir: string, port: number, stop: () => Promise<void> }>}
 */
export async function start(options = {}) {
  const bin = options.bin ?? DEFAULT_BIN
  const dir = resolve(options.dir ?? DEFAULT_DIR)
  const port = options.port ?? DEFAULT_PORT
  if (!(await hasBinaries(bin))) {
    throw new Error(
      `PostgreSQL server binaries not found in ${bin}: install them with \`apt-get install -y postgresql\` ` +
        '(or set PG_BIN to the directory holding initdb and pg_ctl)',
    )
  }
  // The server's socket lives in the data dir; Unix socket paths are limited to ~107 bytes.
  if (`${dir}/.s.PGSQL.${port}`.length > 100) {
    throw new Error(`data dir path too long for a Unix socket in it: ${dir} (pick a shorter --dir)`)
  }
  if (await exists(`${dir}/postmaster.pid`)) await stop({ dir, bin }).catch(() => undefined)
  await rm(dir, { recursive: true, force: true })
  // Parents with the default mode (the postgres user must traverse them), the data dir itself private.
  await mkdir(dirname(dir), { recursive: true })
  await mkdir(dir, { mode: 0o700 })
  await ownForPostgres(dir)
  if (isRoot()) {
    try {
      await run('runuser', ['-u', 'postgres', '--', 'test', '-w', dir])
    } catch {
      throw new Error(`the postgres user cannot write ${dir} (a parent directory is not traversable): pick another --dir`)
    }
  }
  await assertPortFree(port)

  await asPostgres(`${bin}/initdb`, ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'])
  const settings = [
    'wal_level=logical',
    'max_replication_slots=20',
    'max_wal_senders=20',
    `port=${port}`,
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${dir}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
  ]
  await asPostgres(`${bin}/pg_ctl`, [
    '-D',
    dir,
    '-w',
    '-t',
    '30',
    '-l',
    `${dir}/server.log`,
    'start',
    '-o',
    settings.map((setting) => `-c ${setting}`).join(' '),
  ])
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  try {
    await assertOurs(url, dir)
  } catch (error) {
    await stop({ dir, bin }).catch(() => undefined)
    throw error
  }
  return { url, dir, port, stop: () => stop({ dir, bin }) }
}

async function assertOurs(url, dir) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query("SELECT current_setting('data_directory') AS dir, current_setting('wal_level') AS wal")
    if (rows[0]?.dir !== dir) throw new Error(`reached a PostgreSQL serving ${rows[0]?.dir}, not ${dir}`)
    if (rows[0]?.wal !== 'logical') throw new Error(`wal_level is ${rows[0]?.wal}, not logical`)
  } finally {
    await client.end()
  }
}

/**
 * Stops the cluster in `dir` (fast shutdown). Resolves when it is down; a dir without a running server is fine.
 * @param {{ dir?: string, bin?: string }} [options]
 */
export async function stop(options = {}) {
  const bin = options.bin ?? DEFAULT_BIN
  const dir = resolve(options.dir ?? DEFAULT_DIR)
  if (!(await exists(`${dir}/postmaster.pid`))) return
  await asPostgres(`${bin}/pg_ctl`, ['-D', dir, '-w', '-t', '30', '-m', 'fast', 'stop'])
}

function flag(args, name) {
  const index = args.indexOf(name)
  return index === -1 ? undefined : args[index + 1]
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2)
  const dir = flag(args, '--dir')
  const port = flag(args, '--port')
  try {
    if (command === 'start') {
      const cluster = await start({ ...(dir ? { dir } : {}), ...(port ? { port: Number(port) } : {}) })
      console.log(`DATABASE_URL=${cluster.url}`)
    } else if (command === 'stop') {
      await stop(dir ? { dir } : {})
    } else {
      console.error('usage: pg-cluster.mjs start|stop [--dir DIR] [--port PORT]')
      process.exitCode = 2
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
}
