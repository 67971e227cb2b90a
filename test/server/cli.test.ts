import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CliUsageError, loadPostgresSource, main, parseDevArgs, USAGE, type DevServer } from '../../src/server/cli'

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env }, out, err }
}

describe('live-shapes arguments', () => {
  it('maps flags onto server options, taking DATABASE_URL only when no --database-url is given', () => {
    expect(parseDevArgs(['dev'])).toEqual({})
    expect(
      parseDevArgs(['dev', '--port', '0', '--host', '0.0.0.0', '--data-dir', 'db', '--long-poll-timeout', '500']),
    ).toEqual({ port: 0, host: '0.0.0.0', dataDir: 'db', longPollTimeoutMs: 500 })
    expect(parseDevArgs(['dev'], { DATABASE_URL: 'postgresql://a/b' })).toEqual({ databaseUrl: 'postgresql://a/b' })
    expect(parseDevArgs(['dev', '--database-url', 'postgresql://c/d'], { DATABASE_URL: 'postgresql://a/b' })).toEqual({
      databaseUrl: 'postgresql://c/d',
    })
    expect(parseDevArgs(['--help'])).toBe('help')
    expect(parseDevArgs(['dev', '--secret', 's3'], { ELECTRIC_SECRET: 'env' })).toEqual({ secret: 's3' })
    expect(parseDevArgs(['dev'], { ELECTRIC_SECRET: 'env' })).toEqual({ secret: 'env' })
    expect(parseDevArgs(['dev'], { ELECTRIC_SECRET: '' })).toEqual({})
    expect(parseDevArgs(['dev', '--tables', 'items, app.todos,"A,b"', '--schemas', 'app'])).toEqual({
      tables: ['items', 'app.todos', '"A,b"'],
      schemas: ['app'],
    })
    expect(parseDevArgs(['dev', '--allow-delete', '--cors-origins', 'http://localhost:5173,https://app.example'])).toEqual({
      allowDelete: true,
      corsOrigins: ['http://localhost:5173', 'https://app.example'],
    })
    expect(parseDevArgs(['dev', '--cors-origins', '*'])).toEqual({ corsOrigins: '*' })
  })

  it.each([
    [['dev', '--port', 'x'], /--port must be an integer/],
    [['dev', '--port', '70000'], /--port must be an integer/],
    [['dev', '--long-poll-timeout', '0'], /--long-poll-timeout/],
    [['dev', '--data-dir', 'db', '--database-url', 'postgresql://a/b'], /--data-dir/],
    [['serve'], /unknown command: serve/],
    [[], /missing command/],
    [['dev', '--nope'], /nope/],
    [['dev', '--secret', ''], /--secret must not be empty/],
    [['dev', '--host', ''], /--host must not be empty/],
    [['dev', '--data-dir', ''], /--data-dir must not be empty/],
    [['dev', '--database-url', ''], /--database-url must not be empty/],
    [['dev', '--tables', 'items,,todos'], /--tables must be a comma-separated list/],
    [['dev', '--tables', 'pg_catalog.pg_authid'], /system schema/],
    [['dev', '--schemas', 'information_schema'], /system schema/],
    [['dev', '--schemas', 'pg_toast'], /system schema/],
    [['dev', '--tables', 'a.b.c'], /--tables: "a.b.c" is not a table name/],
    [['dev', '--cors-origins', 'http://localhost:5173/'], /--cors-origins lists "http:\/\/localhost:5173\/".*did you mean "http:\/\/localhost:5173"/],
    [['dev', '--cors-origins', 'http://localhost:5173,*'], /--cors-origins lists "\*"/],
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseDevArgs(argv)).toThrow(CliUsageError)
    expect(() => parseDevArgs(argv)).toThrow(message)
  })

  it('prints the usage and exits 2 on bad arguments, starting nothing', async () => {
    const { io: cli, out, err } = io()
    expect(await main(['dev', '--port', '-1'], cli)).toEqual({ exitCode: 2, server: undefined })
    expect(out).toEqual([])
    expect(err.join('\n')).toContain(USAGE)
  })

  it('prints the usage and exits 0 on --help', async () => {
    const { io: cli, out } = io()
    expect(await main(['dev', '--help'], cli)).toEqual({ exitCode: 0, server: undefined })
    expect(out).toEqual([USAGE])
  })
})

describe('--database-url without the optional peers', () => {
  it('says which packages to install instead of "Cannot find package \'pg\' imported from dist/chunk-…"', async () => {
    const missing = Object.assign(new Error("Cannot find package 'pg' imported from /app/node_modules/live-shapes/dist/chunk-X.js"), { code: 'ERR_MODULE_NOT_FOUND' })
    const loading = loadPostgresSource(() => Promise.reject(missing))
    await expect(loading).rejects.toThrow(/--database-url needs the optional peer dependencies pg and pg-logical-replication \(npm i pg pg-logical-replication\)/)
    await expect(loadPostgresSource(() => Promise.reject(missing))).rejects.toMatchObject({ cause: missing })
    const other = new Error('boom')
    await expect(loadPostgresSource(() => Promise.reject(other))).rejects.toBe(other)
  })
})

describe('live-shapes dev', { timeout: 60_000 }, () => {
  let pglite: DevServer | undefined
  const started = { out: [] as string[] }
  beforeAll(async () => {
    const { io: cli, out } = io()
    const result = await main(['dev', '--port', '0', '--long-poll-timeout', '300'], cli)
    pglite = result.server
    started.out = out
  }, 120_000)
  afterAll(() => pglite?.close())

  it('serves shapes from an embedded PGlite and prints where', async () => {
    if (pglite === undefined) throw new Error('server did not start')
    expect(started.out).toEqual([`live-shapes dev: serving ${pglite.url}/v1/shape on PGlite in memory (no tables, and no other process can reach it: serve a --data-dir prepared beforehand, or --database-url)`])
    expect(pglite.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    if (pglite.source.kind !== 'pglite') throw new Error('expected PGlite')
    await pglite.source.db.exec(`CREATE TABLE cli_items (id int8 PRIMARY KEY, title text); INSERT INTO cli_items VALUES (1, 'one')`)
    const first = await fetch(`${pglite.url}/v1/shape?table=cli_items&offset=-1`)
    expect(first.status).toBe(200)
    const body = (await first.json()) as { value?: Record<string, unknown> }[]
    expect(body.filter((message) => message.value).map((message) => message.value)).toEqual([{ id: '1', title: 'one' }])
    const handle = first.headers.get('electric-handle')
    const now = await fetch(`${pglite.url}/v1/shape?table=cli_items&offset=now&handle=${handle}`)
    const offset = now.headers.get('electric-offset')
    const live = fetch(`${pglite.url}/v1/shape?table=cli_items&offset=${offset}&handle=${handle}&live=true`)
    await pglite.source.db.query(`INSERT INTO cli_items VALUES (2, 'two')`)
    const changes = (await (await live).json()) as { value?: Record<string, unknown> }[]
    expect(changes.filter((message) => message.value).map((message) => message.value)).toEqual([{ id: '2', title: 'two' }])
  })

  it('serves only the public schema by default: catalogs and other schemas are refused as missing tables', async () => {
    if (pglite === undefined || pglite.source.kind !== 'pglite') throw new Error('expected PGlite')
    await pglite.source.db.exec(`CREATE SCHEMA cli_private; CREATE TABLE cli_private.secrets (id int8 PRIMARY KEY, token text);
      INSERT INTO cli_private.secrets VALUES (1, 'hunter2')`)
    for (const table of ['pg_catalog.pg_authid', 'pg_authid', 'pg_statistic', 'information_schema.tables', 'cli_private.secrets']) {
      const response = await fetch(`${pglite.url}/v1/shape?table=${encodeURIComponent(table)}&offset=-1`)
      const text = await response.text()
      expect(response.status, text).toBe(400)
      expect(JSON.parse(text)).toMatchObject({ message: 'Invalid request', errors: { table: [expect.stringContaining('does not exist')] } })
      expect(text).not.toMatch(/SCRAM|hunter2/)
    }
    // No capture trigger was installed on the refused table: the request never reached the source.
    const triggers = await pglite.source.db.query(
      `SELECT 1 FROM pg_trigger WHERE tgrelid = 'cli_private.secrets'::regclass AND NOT tgisinternal`,
    )
    expect(triggers.rows).toEqual([])
  })

  it('holds live requests for --long-poll-timeout', async () => {
    if (pglite === undefined) throw new Error('server did not start')
    if (pglite.source.kind !== 'pglite') throw new Error('expected PGlite')
    await pglite.source.db.exec('CREATE TABLE cli_idle (id int8 PRIMARY KEY)')
    const first = await fetch(`${pglite.url}/v1/shape?table=cli_idle&offset=now`)
    const handle = first.headers.get('electric-handle')
    const offset = first.headers.get('electric-offset')
    const started = performance.now()
    const held = await fetch(`${pglite.url}/v1/shape?table=cli_idle&offset=${offset}&handle=${handle}&live=true`)
    const elapsed = performance.now() - started
    expect(held.headers.get('electric-has-data')).toBe('false')
    expect(elapsed).toBeGreaterThanOrEqual(280)
    expect(elapsed).toBeLessThan(5_000)
  })

  it('uses PostgreSQL logical replication with DATABASE_URL, and close() drops its slot', async () => {
    const databaseUrl = inject('databaseUrl')
    const { io: cli, out } = io({ DATABASE_URL: databaseUrl })
    const { server } = await main(['dev', '--port', '0'], cli)
    if (server === undefined || server.source.kind !== 'postgres') throw new Error('expected a PostgreSQL server')
    expect(out[0]).toContain('on PostgreSQL postgresql://postgres@127.0.0.1')
    const response = await fetch(`${server.url}/v1/shape?table=pg_missing_table&offset=-1`)
    expect(response.status).toBe(400)
    const { slotName } = server.source
    await server.close()
    const pg = await import('pg')
    const client = new pg.default.Client({ connectionString: databaseUrl })
    await client.connect()
    const { rowCount } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slotName])
    await client.end()
    expect(rowCount).toBe(0)
  })

  it('--schemas and --tables are the allow-list; --allow-delete and --cors-origins reach the handler', async () => {
    const databaseUrl = inject('databaseUrl')
    const pg = await import('pg')
    const admin = new pg.default.Client({ connectionString: databaseUrl })
    await admin.connect()
    const schema = `cli_app_${process.pid}`
    const table = `cli_public_${process.pid}`
    await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.todos (id int8 PRIMARY KEY);
      CREATE TABLE public.${table} (id int8 PRIMARY KEY); CREATE TABLE public.${table}_listed (id int8 PRIMARY KEY)`)
    const { io: cli, out } = io({ DATABASE_URL: databaseUrl })
    const { server } = await main(
      ['dev', '--port', '0', '--schemas', schema, '--tables', `${table}_listed`, '--allow-delete', '--cors-origins', 'http://app.test'],
      cli,
    )
    try {
      if (server === undefined) throw new Error('server did not start')
      expect(out[0]).toContain(`, only ${table}_listed, ${schema}.*`)
      const status = async (name: string) => (await fetch(`${server.url}/v1/shape?table=${name}&offset=-1`)).status
      expect(await status(`${schema}.todos`)).toBe(200)
      expect(await status(`${table}_listed`)).toBe(200)
      expect(await status(table)).toBe(400)
      const cors = async (origin: string) =>
        (await fetch(`${server.url}/v1/shape?table=${schema}.todos&offset=-1`, { headers: { origin } })).headers.get('access-control-allow-origin')
      expect(await cors('http://app.test')).toBe('http://app.test')
      expect(await cors('http://evil.test')).toBeNull()
      expect((await fetch(`${server.url}/v1/shape?table=${schema}.todos`, { method: 'DELETE' })).status).toBe(202)
    } finally {
      await server?.close()
      await admin.query(`DROP SCHEMA ${schema} CASCADE; DROP TABLE public.${table}, public.${table}_listed`)
      await admin.end()
    }
  })
})
