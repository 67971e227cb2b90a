/**
 * An in-process shape server for tests and stories: the real handler over a memory source, reached through a
 * `fetch` that calls the handler directly (no sockets, no ports).
 *
 * Invariants:
 * - The in-process `fetch` behaves like the platform's on abort: it rejects with the signal's reason when the
 *   signal aborts before the response, and the handler sees the abort (held requests and SSE streams end).
 * - Requests whose origin is not the server's are passed to the platform `fetch`, so one `fetch` serves a
 *   whole app under test.
 * - `close()` ends every shape and closes the source.
 * - Its handler serves the schemas of the tables it was created with, and `public`, unless `servedTables` or
 *   `schemas` say otherwise (the handler's allow-list: tableAccess.ts).
 * - Writes (`insert`, `update`, `delete`, `truncate`, `transaction`) resolve to the txid of the transaction they
 *   committed, the number clients see in the `txids` header (what an API route returns as
 *   `pg_current_xact_id()::xid`). A fault set with `failNextCommit` / `delayNextCommit` applies to the next write
 *   only: a failed write commits nothing; a delayed one commits when its delay ends.
 */
import { abortReason } from '../core/clock'
import { createShapeHandler } from '../server/handler'
import { quoteIdentifier } from '../server/identifiers'
import type { ShapeHandler, ShapeHandlerOptions } from '../server/handler'
import { createMemorySource } from '../server/sources/memory'
import type { MemoryRow, MemorySource, MemoryTableInit, MemoryTableRef, MemoryTransaction } from '../server/sources/memory'

/**
 * Options of `createTestShapeServer`: the memory tables to start with, plus any `createShapeHandler` option but
 * `source`.
 * @example
 * const options: TestShapeServerOptions = { tables: [{ name: 'todos', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] }
 */
export interface TestShapeServerOptions extends Omit<ShapeHandlerOptions, 'source' | 'tables'> {
  /** Tables (and initial rows) of the memory source. */
  tables?: readonly MemoryTableInit[]
  /** The handler's `tables` allow-list. Default: with no `schemas` either, `public` and every schema of `tables`. */
  servedTables?: readonly string[]
  /** Origin the in-process `fetch` answers for. Default `http://live-shapes.test`. */
  origin?: string
  /** Serve `DELETE /v1/shape` (its clients get 409). Default true here (false in `createShapeHandler`). */
  allowDelete?: boolean
}

/**
 * An in-process shape server for tests and stories: the real handler over a memory source, reached through `fetch`.
 * @example
 * const server = createTestShapeServer({ tables: [{ name: 'todos', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] })
 * const client = new ShapeClient({ fetch: server.fetch })
 * const txid = await server.insert('todos', { id: 1 })
 */
export interface TestShapeServer {
  /** The shape endpoint, `{origin}/v1/shape`: pass it as a shape's `url`. */
  url: string
  /** In-process `fetch`: pass it as the client's `fetch` option. */
  fetch: typeof fetch
  source: MemorySource
  handler: ShapeHandler
  /** Inserts a row in its own transaction; resolves to its txid. */
  insert(table: MemoryTableRef, row: MemoryRow): Promise<number>
  /** Updates a row (found by `key`, default the primary-key fields of `changes`); resolves to the txid. */
  update(table: MemoryTableRef, changes: MemoryRow, key?: MemoryRow): Promise<number>
  /** Deletes a row; resolves to the txid. */
  delete(table: MemoryTableRef, key: MemoryRow): Promise<number>
  /** Empties a table; resolves to the txid. */
  truncate(table: MemoryTableRef): Promise<number>
  /** Runs `fn` as one transaction (several tables allowed); resolves to its txid, `undefined` if it changed nothing. */
  transaction(fn: (tx: MemoryTransaction) => void): Promise<number | undefined>
  /** Makes the next write reject with `error` (default: an `Error` saying so) and commit nothing. */
  failNextCommit(error?: unknown): void
  /**
   * Makes the next write wait before it commits: `delay` milliseconds (real time, for stories and demos), or until
   * the given promise settles (event-driven, for tests).
   */
  delayNextCommit(delay: number | PromiseLike<unknown>): void
  close(): Promise<void>
}

/**
 * Creates an in-process shape server.
 * @example
 * const server = createTestShapeServer({ tables: [{ name: 'items', columns: [{ name: 'id', type: 'int4', primaryKey: true }] }] })
 * const client = new ShapeClient({ fetch: server.fetch })
 * client.shape({ url: server.url, params: { table: 'items' } })
 */
export function createTestShapeServer(options: TestShapeServerOptions = {}): TestShapeServer {
  const { tables, servedTables, origin = 'http://live-shapes.test', ...handlerOptions } = options
  const source = createMemorySource(tables ? { tables } : {})
  const allowList =
    servedTables !== undefined
      ? { tables: servedTables }
      : handlerOptions.schemas === undefined
        ? { schemas: [...new Set(['public', ...(tables ?? []).map((table) => quoteIdentifier(table.schema ?? 'public'))])] }
        : {}
  // DELETE (a 409 for the shape's clients) is on by default here: tests provoke refetches with it, and this server is
  // reached only through its in-process fetch. `allowDelete: false` turns it off.
  const handler = createShapeHandler({ allowDelete: true, ...handlerOptions, ...allowList, source })
  const base = new URL(origin)

  const inProcessFetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    if (new URL(request.url).origin !== base.origin) return globalThis.fetch(input, init)
    const signal = request.signal
    if (signal.aborted) throw abortReason(signal)
    return new Promise<Response>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal))
      signal.addEventListener('abort', onAbort, { once: true })
      handler(request).then(
        (response) => {
          signal.removeEventListener('abort', onAbort)
          if (signal.aborted) {
            void response.body?.cancel()
            reject(abortReason(signal))
          } else resolve(response)
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      )
    })
  }) as typeof fetch

  let fault: { fail?: { error: unknown }; delay?: number | PromiseLike<unknown> } = {}
  const write = async <R>(run: () => R): Promise<R> => {
    const next = fault
    fault = {}
    if (typeof next.delay === 'number') await new Promise((resolve) => setTimeout(resolve, next.delay as number))
    else if (next.delay !== undefined) await Promise.resolve(next.delay).catch(() => undefined)
    if (next.fail) throw next.fail.error
    return run()
  }

  return {
    url: `${base.origin}/v1/shape`,
    fetch: inProcessFetch,
    source,
    handler,
    insert: (table, row) => write(() => source.insert(table, row)),
    update: (table, changes, key) => write(() => source.update(table, changes, key)),
    delete: (table, key) => write(() => source.delete(table, key)),
    truncate: (table) => write(() => source.truncate(table)),
    transaction: (fn) =>
      write(() => {
        const committed = source.transaction(fn)
        return committed === undefined ? undefined : Number(committed.xid)
      }),
    failNextCommit(error = new Error('The test shape server was told to fail this commit (failNextCommit)')) {
      fault = { ...fault, fail: { error } }
    },
    delayNextCommit(delay) {
      fault = { ...fault, delay }
    },
    async close() {
      await handler.close()
      await source.close()
    },
  }
}
