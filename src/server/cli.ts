#!/usr/bin/env node
/**
 * `live-shapes dev`: the development shape server on the command line.
 *
 *   live-shapes dev [--port 3000] [--host 127.0.0.1] [--data-dir DIR] [--database-url URL] [--long-poll-timeout MS]
 *                   [--secret S] [--tables a,b] [--schemas s1,s2] [--allow-delete] [--cors-origins o1,o2]
 *
 * Embedded PGlite by default (in memory, or persisted in `--data-dir`); PostgreSQL logical replication when
 * `--database-url` or `DATABASE_URL` is set. `--secret` (or `ELECTRIC_SECRET`) makes shape requests carry it.
 * `--tables` / `--schemas` are the handler's allow-list (tableAccess.ts); without them the `public` schema's tables
 * are served.
 *
 * Invariants:
 * - Bad arguments print the usage and exit with status 2 before anything starts; nothing listens half-made.
 * - SIGINT/SIGTERM close the HTTP server, the handler (ending held requests) and the source (dropping a
 *   PostgreSQL slot), in that order, then exit 0. A second signal exits at once.
 * - `--database-url` without the optional peers `pg` and `pg-logical-replication` fails with a message naming them.
 * - `main` runs only when this file is the process's entry (the bin); importing it starts nothing.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LIMIT_FLAG_SPECS, LIMIT_USAGE, limitsOfFlags } from './cliLimits'
import { isSerializedOrigin, notAnOrigin } from './corsPolicy'
import { createShapeHandler } from './handler'
import { splitOutsideQuotes } from './identifiers'
import type { HandlerLimitOptions } from './handlerLimits'
import { serveNode } from './nodeAdapter'
import { createPGliteSource, type PGliteSource } from './sources/pglite'
import type { createPostgresSource, PostgresSource } from './sources/postgres'
import { createTableAccess, TableAccessError } from './tableAccess'

/** What `startDevServer` needs; the CLI flags map onto it one to one. */
export interface DevServerOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number
  /** Default `127.0.0.1`. */
  host?: string
  /** Persist PGlite here; in memory when omitted. Ignored with `databaseUrl`. */
  dataDir?: string
  /** Use PostgreSQL logical replication instead of PGlite. */
  databaseUrl?: string
  longPollTimeoutMs?: number
  /** Shape requests must carry it as `secret` (or `api_secret`); open when omitted. */
  secret?: string
  /** Tables served (`name` or `schema.name`); with `schemas`, both are served; with neither, `public`'s tables. */
  tables?: readonly string[]
  /** Schemas whose every table is served. */
  schemas?: readonly string[]
  /** Serve `DELETE /v1/shape` (default: only with a secret). */
  allowDelete?: boolean
  /** Browser origins allowed to read responses, or `'*'` for all, `null` included (default: any but `null`). */
  corsOrigins?: '*' | readonly string[]
  /** Resource bounds of the handler (handlerLimits.ts); the `--snapshot-timeout`, `--max-*` flags (cliLimits.ts). */
  limits?: HandlerLimitOptions
}

/** A running dev server. `source.db` is the PGlite instance to write to when `source.kind === 'pglite'`. */
export interface DevServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`; shapes are served at `${url}/v1/shape`. */
  readonly url: string
  readonly source: PGliteSource | PostgresSource
  close(): Promise<void>
}

/** Where the CLI writes and reads its environment; injected so `main` is testable in-process. */
export interface CliIo {
  out(line: string): void
  err(line: string): void
  env: Readonly<Record<string, string | undefined>>
}

/** Arguments `live-shapes` cannot run with; `main` prints the usage and exits with status 2. */
export class CliUsageError extends Error {
  readonly code = 'usage' as const
  constructor(message: string) {
    super(message)
    this.name = 'CliUsageError'
  }
}

export const USAGE = `Usage: live-shapes dev [options]

Serves Electric's /v1/shape protocol for development.

Options:
  --port <n>               port to listen on (default 3000; 0 picks a free one)
  --host <host>            interface to bind (default 127.0.0.1)
  --data-dir <dir>         persist the embedded PGlite database in <dir> (default: in memory)
  --database-url <url>     use PostgreSQL logical replication (default: env DATABASE_URL, else PGlite)
  --long-poll-timeout <ms> how long live requests are held without changes (default 20000)
  --secret <secret>        require ?secret=<secret> on shape requests (default: env ELECTRIC_SECRET, else open)
  --tables <a,b>           serve only these tables (name or schema.name; default: the public schema's tables)
  --schemas <s1,s2>        serve every table of these schemas (with --tables, both are served)
                           System schemas (pg_catalog, information_schema, pg_*) are never served.
  --allow-delete           serve DELETE /v1/shape without a secret (with --secret it is served, secret required)
  --cors-origins <o1,o2>   browser origins allowed to read responses, e.g. http://localhost:5173; * alone for all,
                           null included (default: any origin but null)
${LIMIT_USAGE}
  -h, --help               show this help`

/**
 * Starts a source, the handler and the HTTP server.
 *
 * @example
 * const server = await startDevServer({ port: 0 })
 * if (server.source.kind === 'pglite') await server.source.db.exec('CREATE TABLE items (id int8 PRIMARY KEY)')
 * console.log(`${server.url}/v1/shape?table=items&offset=-1`)
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const source =
    options.databaseUrl === undefined
      ? await createPGliteSource(options.dataDir === undefined ? {} : { dataDir: options.dataDir })
      : // pg and pg-logical-replication are optional peers: load them only when PostgreSQL is asked for.
        await (await loadPostgresSource()).createPostgresSource({ databaseUrl: options.databaseUrl })
  const handler = createShapeHandler({
    source,
    ...(options.longPollTimeoutMs === undefined ? {} : { longPollTimeoutMs: options.longPollTimeoutMs }),
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.tables === undefined ? {} : { tables: options.tables }),
    ...(options.schemas === undefined ? {} : { schemas: options.schemas }),
    ...(options.allowDelete === undefined ? {} : { allowDelete: options.allowDelete }),
    ...(options.corsOrigins === undefined ? {} : { cors: { origins: options.corsOrigins } }),
    ...options.limits,
  })
  let server: Awaited<ReturnType<typeof serveNode>>
  try {
    server = await serveNode(handler, { port: options.port ?? 3000, host: options.host ?? '127.0.0.1' })
  } catch (error) {
    await handler.close()
    await source.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url: server.url,
    source,
    close: () =>
      (closing ??= (async () => {
        await server.close()
        await handler.close()
        await source.close()
      })()),
  }
}

/** What the CLI takes from `./sources/postgres`, the module that imports the optional peers. */
interface PostgresModule {
  createPostgresSource: typeof createPostgresSource
}

/**
 * The PostgreSQL source module, loaded on demand. Its optional peers missing is an error that names them and the
 * command installing them (a bare "Cannot find package 'pg'" points into `dist/chunk-…` and says nothing of peers).
 * @example
 * const { createPostgresSource } = await loadPostgresSource()
 */
export async function loadPostgresSource(load: () => Promise<PostgresModule> = () => import('./sources/postgres')): Promise<PostgresModule> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error
    throw new Error(
      `--database-url needs the optional peer dependencies pg and pg-logical-replication (npm i pg pg-logical-replication): ${(error as Error).message}`,
      { cause: error },
    )
  }
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new CliUsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`)
  }
  return parsed
}

/** Parses `dev` arguments into options; `DATABASE_URL` applies when `--database-url` is absent. */
export function parseDevArgs(argv: readonly string[], env: CliIo['env'] = {}): DevServerOptions | 'help' {
  let parsed: ReturnType<typeof parseDevArgv>
  try {
    parsed = parseDevArgv(argv)
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (positionals.length !== 1 || positionals[0] !== 'dev') {
    throw new CliUsageError(positionals.length === 0 ? 'missing command: dev' : `unknown command: ${positionals.join(' ')}`)
  }
  const port = integer('port', values.port, 0, 65_535)
  const longPollTimeoutMs = integer('long-poll-timeout', values['long-poll-timeout'], 1, 3_600_000)
  const databaseUrl = values['database-url'] ?? (env['DATABASE_URL'] || undefined)
  const secret = values.secret ?? (env['ELECTRIC_SECRET'] || undefined)
  if (secret === '') throw new CliUsageError('--secret must not be empty')
  // An empty value is an unset shell variable, not a choice: '--host ""' would listen on every interface.
  for (const flag of ['host', 'data-dir', 'database-url'] as const) {
    if (values[flag] === '') throw new CliUsageError(`--${flag} must not be empty`)
  }
  let limits: HandlerLimitOptions
  try {
    limits = limitsOfFlags(values)
  } catch (error) {
    throw new CliUsageError((error as Error).message)
  }
  if (databaseUrl !== undefined && values['data-dir'] !== undefined) {
    throw new CliUsageError('--data-dir is for the embedded PGlite; it cannot be combined with a database URL')
  }
  const corsOrigins = originList(values['cors-origins'])
  const tables = nameList('tables', values.tables)
  const schemas = nameList('schemas', values.schemas)
  try {
    createTableAccess({ ...(tables === undefined ? {} : { tables }), ...(schemas === undefined ? {} : { schemas }) })
  } catch (error) {
    if (error instanceof TableAccessError) throw new CliUsageError(`--${error.message}`)
    throw error
  }
  return {
    ...(port === undefined ? {} : { port }),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(longPollTimeoutMs === undefined ? {} : { longPollTimeoutMs }),
    ...(secret === undefined ? {} : { secret }),
    ...(tables === undefined ? {} : { tables }),
    ...(schemas === undefined ? {} : { schemas }),
    ...(values['allow-delete'] === true ? { allowDelete: true } : {}),
    ...(corsOrigins === undefined ? {} : { corsOrigins }),
    ...(Object.keys(limits).length === 0 ? {} : { limits }),
  }
}

/** `--cors-origins`: `*` alone allows every origin; otherwise a list of origins, each one a browser can send. */
function originList(value: string | undefined): '*' | string[] | undefined {
  const origins = nameList('cors-origins', value)
  if (origins?.length === 1 && origins[0] === '*') return '*'
  const stray = origins?.find((origin) => !isSerializedOrigin(origin))
  if (stray !== undefined) throw new CliUsageError(`--cors-origins ${notAnOrigin(stray)}`)
  return origins
}

/** A comma-separated list of names (commas inside double quotes belong to the name); empty entries are refused. */
function nameList(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const names = splitOutsideQuotes(value, ',').map((part) => part.trim())
  if (names.some((part) => part === '')) throw new CliUsageError(`--${name} must be a comma-separated list of names, got "${value}"`)
  return names
}

function parseDevArgv(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'long-poll-timeout': { type: 'string' },
      secret: { type: 'string' },
      tables: { type: 'string' },
      schemas: { type: 'string' },
      'allow-delete': { type: 'boolean' },
      'cors-origins': { type: 'string' },
      ...LIMIT_FLAG_SPECS,
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** Hides the password of a connection URL before printing it. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the given database URL'
  }
}

/**
 * Runs the CLI: returns the running server (so tests can use and close it), or undefined with `exitCode` set when
 * it printed help or a usage error.
 *
 * @example
 * const result = await main(['dev', '--port', '0'], { out: console.log, err: console.error, env: {} })
 */
export async function main(
  argv: readonly string[],
  io: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env },
): Promise<{ exitCode: number; server: DevServer | undefined }> {
  let options: DevServerOptions | 'help'
  try {
    options = parseDevArgs(argv, io.env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    io.err(`live-shapes: ${error.message}\n\n${USAGE}`)
    return { exitCode: 2, server: undefined }
  }
  if (options === 'help') {
    io.out(USAGE)
    return { exitCode: 0, server: undefined }
  }
  const server = await startDevServer(options)
  const backing =
    options.databaseUrl !== undefined
      ? `PostgreSQL ${redact(options.databaseUrl)} (logical replication)`
      : options.dataDir !== undefined
        ? `PGlite in ${options.dataDir}`
        : 'PGlite in memory (no tables, and no other process can reach it: serve a --data-dir prepared beforehand, or --database-url)'
  const allowList =
    options.tables === undefined && options.schemas === undefined
      ? ''
      : `, only ${[...(options.tables ?? []), ...(options.schemas ?? []).map((schema) => `${schema}.*`)].join(', ')}`
  io.out(
    `live-shapes dev: serving ${server.url}/v1/shape on ${backing}${options.secret === undefined ? '' : ', secret required'}${allowList}`,
  )
  return { exitCode: 0, server }
}

/**
 * Closes the server on the first SIGINT/SIGTERM and exits; a second signal, or one before the server is up, exits at
 * once. Installed before start-up so no signal ever meets the default handler halfway.
 */
function closeOnSignals(): { serving(server: DevServer): void } {
  let running: DevServer | undefined
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping || running === undefined) process.exit(130)
    stopping = true
    console.error(`live-shapes dev: ${signal}, shutting down`)
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return {
    serving: (server) => {
      running = server
    },
  }
}

function isEntry(): boolean {
  const entry = process.argv[1]
  // The CommonJS build has no import.meta; only the ESM build is the bin.
  const self = typeof import.meta === 'object' && typeof import.meta.url === 'string' ? import.meta.url : undefined
  if (entry === undefined || self === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(self))
  } catch {
    return false
  }
}

if (isEntry()) {
  const signals = closeOnSignals()
  main(process.argv.slice(2)).then(
    ({ exitCode, server }) => {
      if (server === undefined) process.exit(exitCode)
      else signals.serving(server)
    },
    (error: unknown) => {
      console.error(`live-shapes dev: ${error instanceof Error ? error.message : String(error)}`)
      process.exit(1)
    },
  )
}
