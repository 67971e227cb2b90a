import { describe, expectTypeOf, it } from 'vitest'
import {
  browserConnectivity,
  browserPageHide,
  FetchError,
  indexedDBStorage,
  memoryStorage,
  RetriesExhaustedError,
  rowKey,
  rowKeyOf,
  RowKeyError,
  ShapeClient,
  ShapeError,
  ShapeRequestError,
  shapeOptions,
  TxidTimeoutError,
} from '../../src/core/index'
import type { MutationResult, PersistStorage, Shape, ShapeRowSource, ShapeSnapshot, SubsetSnapshot } from '../../src/core/index'
import { createTestShapeServer } from '../../src/testing/index'

// Type tests of live-shapes/core as a user's `tsc --strict --exactOptionalPropertyTypes` sees it (the hooks' are in
// test/react/*.test-d.ts).

interface Todo {
  id: number
  title: string
  done: boolean
}
const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' } })

describe('core public types', () => {
  it('the browser adapters are accepted where they are the documented defaults', () => {
    // Both return undefined where the platform has nothing to listen to; passing that means "the default".
    new ShapeClient({ connectivity: browserConnectivity() })
    new ShapeClient({ persist: { storage: memoryStorage(), pageHide: browserPageHide() } })
    new ShapeClient({ connectivity: null, visibility: null, persist: { storage: memoryStorage(), pageHide: null } })
  })

  it('error classes are values usable with instanceof, their fields typed', () => {
    const error: unknown = undefined
    if (error instanceof RetriesExhaustedError) {
      expectTypeOf(error.attempts).toEqualTypeOf<number>()
      expectTypeOf(error.cause).toEqualTypeOf<ShapeError>()
      expectTypeOf(error.cause.retryable).toEqualTypeOf<boolean>()
    }
    if (error instanceof ShapeRequestError) {
      expectTypeOf(error).toMatchTypeOf<FetchError>()
      expectTypeOf(error.status).toEqualTypeOf<number>()
      expectTypeOf(error.errors).toEqualTypeOf<Readonly<Record<string, unknown>>>()
    }
    if (error instanceof TxidTimeoutError) {
      expectTypeOf(error.txids).toEqualTypeOf<readonly string[]>()
      expectTypeOf(error.reason).toEqualTypeOf<'timeout' | 'aborted'>()
    }
    if (error instanceof RowKeyError) expectTypeOf(error).toMatchTypeOf<Error>()
  })

  it('writes: keys, txids, mutate and the pending flag carry the row type', async () => {
    const shape = new ShapeClient().shape(todos)
    expectTypeOf(shape).toEqualTypeOf<Shape<Todo>>()
    expectTypeOf(shape.rowKey({ id: 1 })).toEqualTypeOf<string>()
    expectTypeOf(rowKey('public.todos', 1)).toEqualTypeOf<string>()
    expectTypeOf(rowKey('todos', [1, 'a'])).toEqualTypeOf<string>()
    expectTypeOf(rowKeyOf({ id: 1 }, { table: 'todos', primaryKey: ['id'] })).toEqualTypeOf<string>()
    expectTypeOf(shape.whenTxid(1, { timeoutMs: 5_000, signal: new AbortController().signal })).toEqualTypeOf<Promise<void>>()
    await shape.whenTxid([1, 2n, '3'])
    const result = shape.mutate({
      apply: (draft) => {
        draft.insert({ id: 2, title: 'new', done: false })
        draft.update({ id: 1, done: true })
        draft.delete({ id: 3 })
        draft.delete('"public"."todos"/"4"')
        // @ts-expect-error an insert is a whole row
        draft.insert({ id: 5 })
      },
      commit: async () => ({ txid: 42n }),
    })
    expectTypeOf(result).toEqualTypeOf<Promise<MutationResult>>()
    expectTypeOf(shape.getSnapshot()).toEqualTypeOf<ShapeSnapshot<Todo>>()
    expectTypeOf(shape.getSnapshot().isPending('k')).toEqualTypeOf<boolean>()
    expectTypeOf(shape.isPending('k')).toEqualTypeOf<boolean>()
    // The testing server's writes resolve to the txid a commit returns.
    const server = createTestShapeServer()
    await shape.mutate({ apply: (draft) => draft.update({ id: 1, done: true }), commit: () => server.update('todos', { id: 1, done: true }) })
    // @ts-expect-error a txid is a number, bigint or string
    await shape.whenTxid(true)
  })

  it('persistence and outages: storages, status fields, retryNow', async () => {
    const client = new ShapeClient({
      persist: { storage: indexedDBStorage(), namespace: 'user-1', maxAgeMs: 86_400_000, buster: 'v2', throttleMs: 500 },
    })
    expectTypeOf(client.clearPersisted()).toEqualTypeOf<Promise<void>>()
    expectTypeOf(client.flushPersisted()).toEqualTypeOf<Promise<void>>()
    // localStorage, an AsyncStorage-like and a Map all plug in.
    const local: PersistStorage = globalThis.localStorage
    const asyncStorage: PersistStorage = {
      getItem: async (key: string): Promise<string | null> => key,
      setItem: async (): Promise<void> => undefined,
      removeItem: async (): Promise<void> => undefined,
    }
    const map = new Map<string, string>()
    const fromMap: PersistStorage = { getItem: (key) => map.get(key), setItem: (key, value) => map.set(key, value), removeItem: (key) => map.delete(key) }
    expectTypeOf([local, asyncStorage, fromMap]).toEqualTypeOf<PersistStorage[]>()
    const shape = client.shape(todos)
    expectTypeOf(shape.retryNow()).toEqualTypeOf<boolean>()
    const status = shape.getStatus()
    expectTypeOf(status.offline).toEqualTypeOf<boolean>()
    expectTypeOf(status.nextRetryAt).toEqualTypeOf<number | undefined>()
    expectTypeOf(status.source).toEqualTypeOf<ShapeRowSource | undefined>()
    expectTypeOf<ShapeRowSource>().toEqualTypeOf<'cache' | 'network'>()
    expectTypeOf(status.cacheAgeMs).toEqualTypeOf<number | undefined>()
    expectTypeOf(await client.fetchSnapshot(todos, { orderBy: 'id', limit: 5 })).toEqualTypeOf<SubsetSnapshot<Todo>>()
  })
})

describe('optional options passed straight through under exactOptionalPropertyTypes', () => {
  it('take undefined wherever leaving the option out means the same', () => {
    const props: { namespace?: string | undefined; timeout?: number | undefined; sse?: boolean | undefined; where?: string | undefined } = {}
    const client = new ShapeClient({ liveSse: props.sse, gracePeriodMs: props.timeout, unusedTimeoutMs: props.timeout, persist: { storage: memoryStorage(), namespace: props.namespace, maxAgeMs: props.timeout, throttleMs: props.timeout, readTimeoutMs: props.timeout, buster: props.namespace } })
    const shape = client.shape({ url: 'http://localhost:3000/v1/shape', params: { table: 'todos' }, liveSse: props.sse, log: undefined, headers: undefined, parser: undefined, columnMapper: undefined, transformer: undefined, onError: undefined, backoff: undefined, primaryKey: undefined, lazyJson: undefined })
    expectTypeOf(shape.whenTxid(1, { timeoutMs: props.timeout, signal: undefined })).toEqualTypeOf<Promise<void>>()
    expectTypeOf(shape.requestSnapshot({ where: props.where, limit: props.timeout, offset: props.timeout, orderBy: props.where })).toEqualTypeOf<Promise<SubsetSnapshot<Record<string, unknown>>>>()
  })
})
