/**
 * The value `useShape` gives a component, derived from a shape's store snapshot and status.
 *
 * Invariants:
 * - `getSnapshot` allocates only when an input changed (the store snapshot or a status field the result shows),
 *   and returns the previous result object when the derived fields are all equal: identity changes only when
 *   something a component could show changed.
 * - `data` and `rows` are the store snapshot's own array and Map view, never copies, and are read lazily (own
 *   enumerable getters): a component or selector that never reads `data` never makes the store build the array.
 * - `getServerSnapshot` returns the result of the shape's server view (core/shapeView.ts: the shape before a
 *   seed from storage, which a server does not have; the rows a server's state seeded; otherwise the shape itself)
 *   as of its first call, for as long as this store lives, so hydration renders exactly what the server rendered.
 *   Under Suspense the server rendered either the fallback (the browser then renders afresh, not hydrating) or rows
 *   it fetched itself, never a loading shape: there a server view that is not up to date (the shape before a seed
 *   from storage) gives way to the shape itself.
 * - `error` is `false` when there is none, as in `@electric-sql/react`.
 */
import type { Row, Shape, ShapeError, ShapeSnapshot, ShapeStatus } from '../core/index'
import { SERVER_VIEW } from '../core/internal'
import { noop } from './noop'

/**
 * What `useShape` returns without a selector (and what a selector receives).
 * @example
 * const { data, isLoading, error } = useShape<Todo>({ url, params: { table: 'todos' } })
 */
export interface UseShapeResult<T = Row> {
  /** Rows in key-insertion order; the store's own array (do not mutate). */
  readonly data: readonly T[]
  /** Rows by shape key. */
  readonly rows: ReadonlyMap<string, T>
  /** True until the first up-to-date (or while disabled: false). */
  readonly isLoading: boolean
  /** The rows reached the server's head and the stream has not been reset since. */
  readonly isUpToDate: boolean
  readonly isError: boolean
  /** The last error of the stream, `false` when there is none. */
  readonly error: ShapeError | false
  /** Epoch ms of the last up-to-date; `undefined` while loading. */
  readonly lastSyncedAt: number | undefined
  /** True while a changed definition shows the previous definition's rows until its own first up-to-date. */
  readonly isPlaceholderData: boolean
  /** The shape these rows come from (`undefined` while disabled); pass it to `useShapeStatus`, `useShapeRow`… */
  readonly shape: Shape<T> | undefined
}

/**
 * The external store of one hook's `UseShapeResult`, as `useSyncExternalStore` reads it (not the core `ShapeStore`
 * of rows, which it reads through the shape).
 * @example
 * useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot)
 */
export interface ShapeResultStore<T> {
  subscribe(listener: () => void): () => void
  getSnapshot(): UseShapeResult<T>
  getServerSnapshot(): UseShapeResult<T>
}

const EMPTY_ROWS: ReadonlyMap<string, never> = new Map<string, never>()
const EMPTY_DATA: readonly never[] = Object.freeze([])

/** The result while a hook is disabled (`enabled: false`). */
export const DISABLED_RESULT: UseShapeResult<never> = Object.freeze({
  data: EMPTY_DATA,
  rows: EMPTY_ROWS,
  isLoading: false,
  isUpToDate: false,
  isError: false,
  error: false,
  lastSyncedAt: undefined,
  isPlaceholderData: false,
  shape: undefined,
})

/** The result store used while disabled: never changes. */
export const DISABLED_RESULT_STORE: ShapeResultStore<never> = {
  subscribe: () => noop,
  getSnapshot: () => DISABLED_RESULT,
  getServerSnapshot: () => DISABLED_RESULT,
}

type DerivedFields<T> = Omit<UseShapeResult<T>, 'data' | 'rows' | 'shape' | 'isPlaceholderData'>

function sameFields<T>(a: DerivedFields<T>, b: DerivedFields<T>): boolean {
  return (
    a.isLoading === b.isLoading &&
    a.isUpToDate === b.isUpToDate &&
    a.error === b.error &&
    a.lastSyncedAt === b.lastSyncedAt
  )
}

function resultOf<T>(snapshot: ShapeSnapshot<T>, fields: DerivedFields<T>, shape: Shape<T>): UseShapeResult<T> {
  return Object.freeze({
    get data(): readonly T[] {
      return snapshot.data
    },
    get rows(): ReadonlyMap<string, T> {
      return snapshot.rows
    },
    ...fields,
    isPlaceholderData: false,
    shape,
  })
}

/**
 * A result store over `shape`. One per hook instance and shape; `suspense` for `useSuspenseShape` (see above).
 * @example
 * const store = useMemo(() => createShapeResultStore(shape), [shape])
 */
export function createShapeResultStore<T>(shape: Shape<T>, suspense = false): ShapeResultStore<T> {
  let lastSnapshot: ShapeSnapshot<T> | undefined
  let lastStatus: ShapeStatus | undefined
  let current: { snapshot: ShapeSnapshot<T>; fields: DerivedFields<T>; result: UseShapeResult<T> } | undefined
  let server: UseShapeResult<T> | undefined

  const resultFor = (snapshot: ShapeSnapshot<T>, status: ShapeStatus): UseShapeResult<T> => {
    if (current !== undefined && snapshot === lastSnapshot && status === lastStatus) return current.result
    lastSnapshot = snapshot
    lastStatus = status
    const error: ShapeError | false = status.error ?? false
    const fields: DerivedFields<T> = {
      isLoading: !snapshot.isUpToDate,
      isUpToDate: snapshot.isUpToDate && status.isUpToDate,
      isError: error !== false,
      error,
      lastSyncedAt: snapshot.isUpToDate ? status.lastSyncedAt : undefined,
    }
    // A snapshot changes identity only when its rows changed, so comparing snapshots stands for comparing data/rows.
    if (current === undefined || current.snapshot !== snapshot || !sameFields(current.fields, fields)) {
      current = { snapshot, fields, result: resultOf(snapshot, fields, shape) }
    }
    return current.result
  }
  const getSnapshot = (): UseShapeResult<T> => resultFor(shape.getSnapshot(), shape.getStatus())

  return {
    subscribe(listener) {
      const offRows = shape.subscribe(listener)
      const offStatus = shape.subscribeStatus(listener)
      return () => {
        offRows()
        offStatus()
      }
    },
    getSnapshot,
    getServerSnapshot() {
      if (server === undefined) {
        const seeded = shape[SERVER_VIEW]()
        const view = suspense && !seeded.getSnapshot().isUpToDate ? shape : seeded
        server = resultFor(view.getSnapshot(), view.getStatus())
      }
      return server
    },
  }
}
