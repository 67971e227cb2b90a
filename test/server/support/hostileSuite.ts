/**
 * The hostile-request suite (hostileCorpus.ts) over one source: every request is a 4xx in Electric's body with no
 * internal text, refused tables are refused without the source doing any work on them, and nothing reaches
 * `onError` (no client error is mistaken for an internal one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createShapeHandler } from '../../../src/server/handler'
import type { ShapeHandler } from '../../../src/server/handler'
import type { MemorySource } from '../../../src/server/sources/memory'
import type { SqlQuery } from '../../../src/server/sources/describeTable'
import { CORPUS, INTERNAL_TEXT, type CorpusEntry, type CorpusTables } from './hostileCorpus'
import type { SourceFixture } from './fixture'

export interface HostileSuiteSource {
  fixture: SourceFixture
  /** Runs one SQL statement on the source's database (SQL sources only). */
  sql?: (statement: string) => Promise<readonly Record<string, unknown>[]>
}

const ORIGIN = 'http://hostile.test'

function requestOf(entry: CorpusEntry, tables: CorpusTables): Request {
  const query = entry.query(tables)
  const search = new URLSearchParams(Array.isArray(query) ? query : Object.entries(query))
  const init: RequestInit = { method: entry.method ?? 'GET' }
  if (entry.headers !== undefined) init.headers = entry.headers
  if (entry.body !== undefined) init.body = entry.body as BodyInit
  return new Request(`${ORIGIN}${entry.path ?? '/v1/shape'}?${search.toString()}`, init)
}

/** The checks every answer of the corpus passes. */
export function expectClientError(entry: Pick<CorpusEntry, 'label' | 'status' | 'tableRefusal' | 'method'>, status: number, text: string): void {
  expect(status, `${entry.label}: ${text}`).toBeGreaterThanOrEqual(400)
  expect(status, `${entry.label}: ${text}`).toBeLessThan(500)
  if (entry.status !== undefined) expect(status, `${entry.label}: ${text}`).toBe(entry.status)
  expect(text, entry.label).not.toMatch(INTERNAL_TEXT)
  if (entry.method === 'HEAD') return
  const body: unknown = JSON.parse(text)
  if (status === 409) {
    expect(body).toEqual([{ headers: { control: 'must-refetch' } }])
    return
  }
  const fields = body as { message?: unknown; error?: unknown; errors?: unknown }
  // Electric's bodies: `{message, errors?}`, or `{error, details?}` for a POST body it could not parse.
  expect(typeof fields.message === 'string' || typeof fields.error === 'string', `${entry.label}: ${text}`).toBe(true)
  if (entry.tableRefusal) {
    expect(body).toEqual({ message: 'Invalid request', errors: { table: [expect.stringMatching(/does not exist/)] } })
  }
}

export function runHostileRequestSuite(name: string, setUp: () => Promise<HostileSuiteSource>): void {
  describe(name, () => {
    let source: HostileSuiteSource
    let handler: ShapeHandler
    const reported: unknown[] = []
    const tables = {} as CorpusTables

    beforeAll(async () => {
      source = await setUp()
      const { fixture, sql } = source
      tables.items = await fixture.createTable({
        name: 'hostile_items',
        columns: [
          { name: 'id', type: 'int8', primaryKey: true },
          { name: 'title', type: 'text' },
          { name: 'n', type: 'int4' },
        ],
      })
      await fixture.insert(tables.items, { id: 1, title: 'one', n: 1 })
      await fixture.insert(tables.items, { id: 2, title: 'two', n: 2 })
      tables.view = `${tables.items}_view`
      tables.sequence = `${tables.items}_seq`
      tables.matview = `${tables.items}_mv`
      if (sql !== undefined) {
        await sql('CREATE SCHEMA IF NOT EXISTS private')
        await sql('CREATE TABLE IF NOT EXISTS private.secrets (id int8 PRIMARY KEY, token text)')
        await sql("INSERT INTO private.secrets VALUES (1, 'hunter2') ON CONFLICT DO NOTHING")
        await sql(`CREATE VIEW ${tables.view} AS SELECT * FROM ${tables.items}`)
        await sql(`CREATE SEQUENCE ${tables.sequence}`)
        await sql(`CREATE MATERIALIZED VIEW ${tables.matview} AS SELECT * FROM ${tables.items}`)
      } else {
        // The memory source holds whatever it is given: the allow-list refuses these even though they exist.
        const memory = fixture.source as MemorySource
        memory.createTable({ schema: 'private', name: 'secrets', columns: [{ name: 'id', type: 'int8', primaryKey: true }, { name: 'token', type: 'text' }], rows: [{ id: 1, token: 'hunter2' }] })
        memory.createTable({ schema: 'pg_catalog', name: 'pg_authid', columns: [{ name: 'oid', type: 'int8', primaryKey: true }, { name: 'rolpassword', type: 'text' }], rows: [{ oid: 10, rolpassword: 'SCRAM-SHA-256$4096:fake' }] })
        memory.createTable({ schema: 'information_schema', name: 'tables', columns: [{ name: 'id', type: 'int8', primaryKey: true }] })
      }
      handler = createShapeHandler({
        source: fixture.source,
        longPollTimeoutMs: 500,
        sseTimeoutMs: 1_000,
        keepAliveMs: 500,
        onError: (error) => reported.push(error),
      })
    }, 120_000)

    afterAll(async () => {
      await handler?.close()
      if (source?.sql !== undefined) {
        await source.sql(`DROP MATERIALIZED VIEW IF EXISTS ${tables.matview}`)
        await source.sql(`DROP VIEW IF EXISTS ${tables.view}`)
        await source.sql(`DROP SEQUENCE IF EXISTS ${tables.sequence}`)
        await source.sql('DROP SCHEMA IF EXISTS private CASCADE')
      }
      await source?.fixture.close()
    })

    for (const entry of CORPUS) {
      it(`${entry.label} → 4xx, Electric's body, no internal text`, async () => {
        const response = await handler(requestOf(entry, tables))
        expectClientError(entry, response.status, await response.text())
      })
    }

    it('the allowed table is served, so the refusals above are the allow-list and not a broken source', async () => {
      const response = await handler(new Request(`${ORIGIN}/v1/shape?table=${tables.items}&offset=-1`))
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('"title":"one"')
    })

    it('no client error reached onError as an internal failure', () => {
      expect(reported).toEqual([])
    })

    it("the source's own describe refuses catalogs and non-tables (the second line behind the allow-list)", async () => {
      if (source.sql === undefined) return
      const describe = (schema: string, name: string) => source.fixture.source.describeTable(schema, name)
      expect(await describe('pg_catalog', 'pg_authid')).toBeUndefined()
      expect(await describe('pg_catalog', 'pg_statistic')).toBeUndefined()
      expect(await describe('information_schema', 'sql_features')).toBeUndefined()
      expect(await describe('public', tables.view)).toBeUndefined()
      expect(await describe('public', tables.sequence)).toBeUndefined()
      expect(await describe('public', tables.matview)).toBeUndefined()
      expect(await describe('public', tables.items)).toMatchObject({ name: tables.items, primaryKey: ['id'] })
    })

    it('the source did no work on a refused table: no trigger, no REPLICA IDENTITY, no publication', async () => {
      const { sql } = source
      if (sql === undefined) return
      const triggers = await sql(
        "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('private.secrets'::regclass, 'pg_catalog.pg_authid'::regclass, 'pg_catalog.pg_statistic'::regclass) AND NOT tgisinternal",
      )
      expect(triggers).toEqual([])
      const identity = await sql("SELECT relreplident::text AS identity FROM pg_class WHERE oid = 'private.secrets'::regclass")
      expect(identity).toEqual([{ identity: 'd' }])
      const published = await sql("SELECT tablename FROM pg_publication_tables WHERE schemaname IN ('private', 'pg_catalog')")
      expect(published).toEqual([])
    })
  })
}

/** A statement runner over a fixture factory's `inTransaction`. */
export function statementRunner(inTransaction: <T>(run: (query: SqlQuery) => Promise<T>) => Promise<T>) {
  return (statement: string) => inTransaction((query) => query(statement, []))
}
