/**
 * Shared set-up of the React tests: the real in-memory dev server, a fresh client per test, a provider wrapper.
 */
import type { ReactNode } from 'react'
import { ShapeClient } from '../../../src/core/index'
import type { ShapeClientOptions } from '../../../src/core/index'
import { ShapeClientProvider } from '../../../src/react/index'
import { createTestShapeServer } from '../../../src/testing/index'
import type { TestShapeServer, TestShapeServerOptions } from '../../../src/testing/index'
import { countingFetch } from './countingFetch'
import type { CountingFetch } from './countingFetch'
import { createManualClock } from './manualClock'
import type { ManualClock } from './manualClock'

export interface Item {
  id: number
  title: string
  done: boolean
}

export const ITEM_COLUMNS = [
  { name: 'id', type: 'int4', primaryKey: true },
  { name: 'title', type: 'text', notNull: true },
  { name: 'done', type: 'bool', notNull: true },
] as const

export interface Harness {
  server: TestShapeServer
  client: ShapeClient
  /** The client's clock: timers (grace period, backoff) fire only in `clock.advance`. */
  clock: ManualClock
  /** The client's fetch, counted. */
  requests: CountingFetch
  table: string
  wrapper: (props: { children?: ReactNode }) => ReactNode
  /** Options of the table's shape; `extra` adds `where`, `params` or custom params (custom ones change the client's identity only). */
  options(extra?: Readonly<Record<string, string | readonly string[]>>): { url: string; params: { table: string } & Record<string, string | readonly string[]> }
  close(): Promise<void>
}

let tableCounter = 0

/** A server with one `items` table holding `rows`, a client on its in-process fetch, and a provider wrapper. */
export function createHarness(
  rows: readonly Item[] = [],
  clientOptions: ShapeClientOptions = {},
  serverOptions: Omit<TestShapeServerOptions, 'tables'> = {},
): Harness {
  tableCounter += 1
  const table = `items_${tableCounter}`
  const server = createTestShapeServer({
    tables: [{ name: table, columns: ITEM_COLUMNS, rows: rows.map((row) => ({ ...row })) }],
    longPollTimeoutMs: 60_000,
    ...serverOptions,
  })
  const clock = createManualClock()
  const requests = countingFetch(server.fetch)
  const client = new ShapeClient({ fetch: requests.fetch, clock, random: () => 0.5, visibility: null, ...clientOptions })
  return {
    server,
    client,
    clock,
    requests,
    table,
    wrapper: ({ children }) => <ShapeClientProvider client={client}>{children}</ShapeClientProvider>,
    options(extra = {}) {
      return { url: server.url, params: { table, ...extra } }
    },
    async close() {
      client.dispose()
      await server.close()
    },
  }
}

/** `count` items with ids 1..count. */
export function makeItems(count: number): Item[] {
  return Array.from({ length: count }, (_, index) => ({ id: index + 1, title: `item ${index + 1}`, done: false }))
}
