import type { ReactNode } from 'react'
import { describe, expectTypeOf, it } from 'vitest'
import { prefetchShape, shapeOptions, ShapeClient } from '../../src/core/index'
import type { DehydratedState, Row, Shape, ShapeError, ShapeOptions, ShapeStatus, ShapePhase, LiveTransport } from '../../src/core/index'
import { shallow, ShapeRowList, useShape, useShapeClient, useShapeKeys, useShapeRow, useShapeStatus, useSubsetSnapshot, useSuspenseShape } from '../../src/index'
import type {
  HydrationBoundaryProps,
  ShapeOrOptions,
  ShapeRowListProps,
  ShapeSource,
  StreamedHydrationProps,
  UseShapeOptions,
  UseShapeResult,
  UseSuspenseShapeResult,
} from '../../src/index'

interface Todo {
  id: number
  title: string
  done: boolean
}
const options = { url: 'http://x/v1/shape', params: { table: 'todos' } }

describe('public hook types', () => {
  it('useShape without a selector returns the Electric-compatible result', () => {
    const result = useShape<Todo>(options)
    expectTypeOf(result).toEqualTypeOf<UseShapeResult<Todo>>()
    expectTypeOf(result.data).toEqualTypeOf<readonly Todo[]>()
    expectTypeOf(result.rows).toEqualTypeOf<ReadonlyMap<string, Todo>>()
    expectTypeOf(result.error).toEqualTypeOf<ShapeError | false>()
    expectTypeOf(result.isLoading).toEqualTypeOf<boolean>()
    expectTypeOf(result.isError).toEqualTypeOf<boolean>()
    expectTypeOf(result.isUpToDate).toEqualTypeOf<boolean>()
    expectTypeOf(result.lastSyncedAt).toEqualTypeOf<number | undefined>()
    expectTypeOf(result.shape).toEqualTypeOf<Shape<Todo> | undefined>()
    expectTypeOf(useShape(options).data).toEqualTypeOf<readonly Row[]>()
  })

  it('useShape with a selector returns the selection, typed from the selector', () => {
    const count = useShape({ ...options, selector: (result: UseShapeResult<Todo>) => result.data.length })
    expectTypeOf(count).toEqualTypeOf<number>()
    const titles = useShape<Todo, string[]>({ ...options, selector: (r) => r.data.map((t) => t.title), isEqual: shallow })
    expectTypeOf(titles).toEqualTypeOf<string[]>()
    // Selectors written for @electric-sql/react may edit the result they receive and return it.
    const open = useShape<Todo>({
      ...options,
      selector: (result) => {
        result.data = result.data.filter((todo) => !todo.done)
        return result
      },
    })
    expectTypeOf(open.data).toEqualTypeOf<readonly Todo[]>()
    // @ts-expect-error isEqual compares selections, not results
    useShape<Todo, number>({ ...options, selector: (r) => r.data.length, isEqual: (a: string, b: string) => a === b })
  })

  it('accepts the options of @electric-sql/react and the extras', () => {
    const accepted: UseShapeOptions<Todo> = {
      url: 'http://x/v1/shape',
      params: { table: 'todos', where: 'done = $1', params: ['false'], columns: ['id', 'title'], replica: 'full' },
      headers: { authorization: () => 'Bearer token' },
      liveSse: true,
      onError: () => undefined,
      signal: new AbortController().signal,
      subscribe: false,
      enabled: false,
    }
    expectTypeOf(accepted).toMatchTypeOf<UseShapeOptions<Todo>>()
    // @ts-expect-error url is required
    useShape<Todo>({ params: { table: 'todos' } })
    // @ts-expect-error replica is 'default' | 'full'
    useShape<Todo>({ url: 'x', params: { table: 'todos', replica: 'partial' } })
  })

  it('takes optional props passed straight through (undefined meaning left out) under exactOptionalPropertyTypes', () => {
    const props: { enabled?: boolean | undefined; signal?: AbortSignal | undefined; sse?: boolean | undefined } = {}
    const rows = useShape<Todo, number>({
      url: '/v1/shape',
      params: { table: 'todos' },
      enabled: props.enabled,
      signal: props.signal,
      subscribe: props.enabled,
      liveSse: props.sse,
      selector: (result) => result.data.length,
      isEqual: undefined,
    })
    expectTypeOf(rows).toEqualTypeOf<number>()
  })

  it('useSuspenseShape narrows the result to what Suspense guarantees and takes no enabled', () => {
    const result = useSuspenseShape<Todo>(options)
    expectTypeOf(result).toEqualTypeOf<UseSuspenseShapeResult<Todo>>()
    expectTypeOf(result.isLoading).toEqualTypeOf<false>()
    expectTypeOf(result.isPlaceholderData).toEqualTypeOf<false>()
    expectTypeOf(result.shape).toEqualTypeOf<Shape<Todo>>()
    expectTypeOf(result.data).toEqualTypeOf<readonly Todo[]>()
    expectTypeOf(result.rows).toEqualTypeOf<ReadonlyMap<string, Todo>>()
    expectTypeOf(result.error).toEqualTypeOf<ShapeError | false>()
    expectTypeOf(result).toMatchTypeOf<UseShapeResult<Todo>>()
    // The shape needs no undefined check before the status and row hooks.
    expectTypeOf(useShapeStatus(result.shape)).toEqualTypeOf<ShapeStatus>()
    const count = useSuspenseShape({ ...options, selector: (r: UseSuspenseShapeResult<Todo>) => r.data.length })
    expectTypeOf(count).toEqualTypeOf<number>()
    useSuspenseShape<Todo, Shape<Todo>>({ ...options, selector: (r) => r.shape })
    // @ts-expect-error a suspended hook always runs
    useSuspenseShape<Todo>({ ...options, enabled: false })
  })

  it('status, row and keys hooks', () => {
    const shape = useShape<Todo>(options).shape
    const status = useShapeStatus(shape)
    expectTypeOf(status).toEqualTypeOf<ShapeStatus>()
    expectTypeOf(status.phase).toEqualTypeOf<ShapePhase>()
    expectTypeOf(status.transport).toEqualTypeOf<LiveTransport>()
    expectTypeOf(status.nextRetryAt).toEqualTypeOf<number | undefined>()
    expectTypeOf(useShapeStatus(options)).toEqualTypeOf<ShapeStatus>()
    expectTypeOf(useShapeRow(shape, 'k')).toEqualTypeOf<Todo | undefined>()
    expectTypeOf(useShapeRow<Todo>(options, 'k')).toEqualTypeOf<Todo | undefined>()
    expectTypeOf(useShapeKeys(shape)).toEqualTypeOf<readonly string[]>()
    // @ts-expect-error the key is a string
    useShapeRow(shape, 1)
    expectTypeOf(useShapeClient().shape<Todo>(options)).toEqualTypeOf<Shape<Todo>>()
  })

  it('shapeOptions carries the row type to prefetchShape, client.shape and every hook', () => {
    const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' }, liveSse: true })
    expectTypeOf(todos).toEqualTypeOf<ShapeOptions<Todo>>()
    expectTypeOf(prefetchShape(new ShapeClient(), todos)).toEqualTypeOf<Promise<void>>()
    expectTypeOf(new ShapeClient().shape(todos)).toEqualTypeOf<Shape<Todo>>()
    expectTypeOf(useShape(todos)).toEqualTypeOf<UseShapeResult<Todo>>()
    expectTypeOf(useShape(todos).data).toEqualTypeOf<readonly Todo[]>()
    expectTypeOf(useSuspenseShape(todos)).toEqualTypeOf<UseSuspenseShapeResult<Todo>>()
    expectTypeOf(useShapeStatus(todos)).toEqualTypeOf<ShapeStatus>()
    expectTypeOf(useShapeRow(todos, 'k')).toEqualTypeOf<Todo | undefined>()
    expectTypeOf(useShapeKeys(todos)).toEqualTypeOf<readonly string[]>()
    // Spread with hook options and a selector, the row type still flows into the selector.
    const titles = useShape({ ...todos, enabled: true, selector: (r) => r.data.map((t) => t.title), isEqual: shallow })
    expectTypeOf(titles).toEqualTypeOf<string[]>()
    const open = useSuspenseShape({ ...todos, selector: (r) => r.data.filter((t) => !t.done) })
    expectTypeOf(open).toEqualTypeOf<Todo[]>()
    // The row type can come from a transformer instead of the generic.
    const fromTransformer = shapeOptions({ url: 'x', params: { table: 'todos' }, transformer: (row: Row) => ({ id: Number(row['id']) }) })
    expectTypeOf(useShape(fromTransformer).data).toEqualTypeOf<readonly { id: number }[]>()
    // Untyped, the rows are `Row`.
    expectTypeOf(useShape(shapeOptions({ url: 'x', params: { table: 'todos' } })).data).toEqualTypeOf<readonly Row[]>()
    // @ts-expect-error shapeOptions checks the options it is given
    shapeOptions<Todo>({ url: 'x', params: { table: 'todos', replica: 'partial' } })
    // @ts-expect-error a row of the shape is a Todo, not a string
    expectTypeOf(useShapeRow(todos, 'k')).toEqualTypeOf<string | undefined>()
  })

  it('subset snapshots carry the row type', async () => {
    const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' }, log: 'changes_only' })
    const page = useSubsetSnapshot(todos, { orderBy: 'id', limit: 10 })
    expectTypeOf(page.data).toEqualTypeOf<readonly Todo[] | undefined>()
    expectTypeOf(page.isLoading).toEqualTypeOf<boolean>()
    const client = new ShapeClient()
    expectTypeOf((await client.shape(todos).requestSnapshot({ where: 'done = $1', params: ['false'] })).data).toEqualTypeOf<readonly Todo[]>()
    expectTypeOf((await client.fetchSnapshot(todos, { orderBy: 'id' })).data).toEqualTypeOf<readonly Todo[]>()
    // @ts-expect-error limit is a number
    useSubsetSnapshot(todos, { orderBy: 'id', limit: '10' })
  })

  it('the hooks take a shape or its options (ShapeOrOptions; ShapeSource is its deprecated name)', () => {
    const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' } })
    const byOptions: ShapeOrOptions<Todo> = todos
    const byShape: ShapeOrOptions<Todo> = new ShapeClient().shape(todos)
    expectTypeOf(useShapeRow(byOptions, 'k')).toEqualTypeOf<Todo | undefined>()
    expectTypeOf(useShapeRow(byShape, 'k')).toEqualTypeOf<Todo | undefined>()
    expectTypeOf<ShapeSource<Todo>>().toEqualTypeOf<ShapeOrOptions<Todo>>()
    expectTypeOf<Shape<Todo>['definitionKey']>().toEqualTypeOf<string>()
  })

  it('the components take a shape or its options and the server state', () => {
    const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' } })
    const list: ShapeRowListProps<Todo> = { shape: todos, renderRow: (key) => key, groupSize: 16 }
    expectTypeOf(ShapeRowList<Todo>).parameter(0).toEqualTypeOf<ShapeRowListProps<Todo>>()
    expectTypeOf(list.renderRow).toEqualTypeOf<(key: string) => ReactNode>()
    expectTypeOf<HydrationBoundaryProps['state']>().toEqualTypeOf<DehydratedState | null | undefined>()
    expectTypeOf<StreamedHydrationProps['insertHTML']>().toEqualTypeOf<(callback: () => ReactNode) => void>()
  })
})
