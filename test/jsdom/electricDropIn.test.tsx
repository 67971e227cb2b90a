/**
 * Drop-in compatibility with `@electric-sql/react`: the same options object given to Electric's `useShape` and to
 * ours, side by side against our dev server, gives the same rows before and after live changes. The options use
 * everything an Electric user may pass: `where` with positional `params` (array and record), `columns`, `replica`,
 * function-valued `headers`, a `parser` per type, a `columnMapper` (Electric's and ours) whose application names
 * are used in `columns` and `where`, and a `transformer`. Under test/jsdom, not test/react: `@electric-sql/react`
 * is loaded from node_modules unaliased, so it cannot share React 18 with the react18 project.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup, render, screen } from '@testing-library/react'
import { useShape as useElectricShape } from '@electric-sql/react'
import type { UseShapeResult as ElectricUseShapeResult } from '@electric-sql/react'
import { snakeCamelMapper as electricSnakeCamelMapper } from '@electric-sql/client'
import { ShapeClient, ShapeClientProvider, snakeCamelMapper, useShape } from '../../src/index'
import type { ColumnMapper, Row } from '../../src/index'
import { createTestShapeServer } from '../../src/testing/index'
import type { TestShapeServer } from '../../src/testing/index'

type ElectricUseShapeOptions = Parameters<typeof useElectricShape<Row, ElectricUseShapeResult>>[0]

let server: TestShapeServer | undefined
let client: ShapeClient | undefined
const controllers: AbortController[] = []
afterEach(async () => {
  cleanup()
  for (const controller of controllers.splice(0)) controller.abort()
  client?.dispose()
  await server?.close()
})

const TODOS = {
  name: 'todos',
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'full_title', type: 'text', notNull: true },
    { name: 'is_done', type: 'bool', notNull: true },
    { name: 'owner_id', type: 'int4' },
    { name: 'tags', type: 'text', dims: 1 },
    { name: 'meta', type: 'jsonb' },
    { name: 'big', type: 'int8' },
    { name: 'due_on', type: 'date' },
  ],
  rows: [
    { id: 1, full_title: 'write', is_done: false, owner_id: 7, tags: '{a,"b c",NULL}', meta: '{"x":1}', big: '9007199254740993', due_on: '2026-01-02' },
    { id: 2, full_title: 'read', is_done: true, owner_id: 7, tags: '{}', meta: 'null', big: '1', due_on: null },
    { id: 3, full_title: 'rest', is_done: false, owner_id: null, tags: null, meta: '[1,2]', big: '-5', due_on: '2026-03-04' },
  ],
} as const

/** Rows as text, sorted by id: bigint and Date spelled out, so both sides compare by value. */
function show(rows: readonly Row[]): string {
  const sorted = [...rows].sort((a, b) => Number(a['id']) - Number(b['id']))
  return JSON.stringify(sorted, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))
}

const cases: Array<{ name: string; mapper: ColumnMapper; positional: string[] | Record<string, string> }> = [
  { name: "Electric's snakeCamelMapper, params as an array", mapper: electricSnakeCamelMapper(), positional: ['false'] },
  { name: 'our snakeCamelMapper, params as a record', mapper: snakeCamelMapper(), positional: { '1': 'false' } },
]

describe('useShape with the options object of @electric-sql/react', () => {
  it.each(cases)('gives the same rows as Electric, before and after changes ($name)', async ({ mapper, positional }) => {
    server = createTestShapeServer({ tables: [TODOS], longPollTimeoutMs: 5_000 })
    const s = server
    const tenants: string[] = []
    const fetchClient = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      tenants.push(new Headers(init?.headers).get('x-tenant') ?? 'none')
      return s.fetch(input, init)
    }
    client = new ShapeClient({ fetch: fetchClient })
    const controller = new AbortController()
    controllers.push(controller)
    const options = {
      url: s.url,
      params: {
        table: 'todos',
        where: 'isDone = $1 AND ownerId IS NOT NULL',
        params: positional,
        columns: ['id', 'fullTitle', 'isDone', 'ownerId', 'tags', 'meta', 'big', 'dueOn'],
        replica: 'full' as const,
      },
      headers: { 'x-tenant': () => 'acme' },
      parser: { date: (value: string) => new Date(`${value}T00:00:00Z`) },
      columnMapper: mapper,
      transformer: (row: Row): Row => ({ ...row, fullTitle: String(row['fullTitle']).toUpperCase() }),
      fetchClient,
      signal: controller.signal,
    }
    function Ours() {
      const result = useShape(options)
      return <p>{`ours:${result.isError ? String(result.error) : result.isLoading ? 'loading' : show(result.data)}`}</p>
    }
    function Theirs() {
      // Electric's types want a `Row<Date>` extension for the date parser; the object is the same.
      const result = useElectricShape(options as unknown as ElectricUseShapeOptions)
      return <p>{`theirs:${result.isError ? String(result.error) : result.isLoading ? 'loading' : show(result.data as Row[])}`}</p>
    }
    render(
      <ShapeClientProvider client={client}>
        <Ours />
        <Theirs />
      </ShapeClientProvider>,
    )
    const first = show([
      { id: 1, fullTitle: 'WRITE', isDone: false, ownerId: 7, tags: ['a', 'b c', null], meta: { x: 1 }, big: 9007199254740993n, dueOn: new Date('2026-01-02T00:00:00Z') },
    ])
    await screen.findByText(`theirs:${first}`, {}, { timeout: 10_000 })
    await screen.findByText(`ours:${first}`, {}, { timeout: 10_000 })

    await s.transaction((tx) => {
      tx.update('todos', { id: 3, owner_id: 5 })
      tx.update('todos', { id: 1, is_done: true })
    })
    const second = show([{ id: 3, fullTitle: 'REST', isDone: false, ownerId: 5, tags: null, meta: [1, 2], big: -5n, dueOn: new Date('2026-03-04T00:00:00Z') }])
    await screen.findByText(`theirs:${second}`, {}, { timeout: 10_000 })
    await screen.findByText(`ours:${second}`, {}, { timeout: 10_000 })
    // Function-valued headers were evaluated for every request of both clients.
    expect(tenants.length).toBeGreaterThanOrEqual(4)
    expect(new Set(tenants)).toEqual(new Set(['acme']))
  })
})
