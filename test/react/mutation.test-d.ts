import { describe, expectTypeOf, it } from 'vitest'
import { shapeOptions } from '../../src/core/index'
import type { MutationDraft, MutationResult, Shape } from '../../src/core/index'
import { useShapeMutation, useShapeRowPending } from '../../src/index'
import { createTestShapeServer } from '../../src/testing/index'
import type { UseShapeMutationResult } from '../../src/index'

interface Todo {
  id: number
  title: string
  done: boolean
}
declare const shape: Shape<Todo>

describe('useShapeMutation types', () => {
  it('infers the row type from the shape and the variables from apply/commit', () => {
    const result = useShapeMutation(shape, {
      apply: (draft, todo: Todo) => {
        expectTypeOf(draft).toEqualTypeOf<MutationDraft<Todo>>()
        draft.insert(todo)
        draft.update({ id: todo.id, done: true })
        draft.delete({ id: todo.id })
        draft.delete('"public"."todos"/"1"')
        // @ts-expect-error an insert is a whole row
        draft.insert({ id: 1 })
      },
      commit: async (todo) => {
        expectTypeOf(todo).toEqualTypeOf<Todo>()
        return { txid: 123n }
      },
    })
    expectTypeOf(result).toEqualTypeOf<UseShapeMutationResult<Todo>>()
    expectTypeOf(result.mutateAsync).toEqualTypeOf<(variables: Todo) => Promise<MutationResult>>()
    expectTypeOf(result.isPending).toEqualTypeOf<boolean>()
    expectTypeOf(result.error).toEqualTypeOf<unknown>()
    expectTypeOf(result.reset).toEqualTypeOf<() => void>()
  })

  it('commit resolves to { txid } with one or several number, bigint or string txids', () => {
    useShapeMutation<Todo, number>(shape, { apply: () => undefined, commit: async () => ({ txid: ['1', 2, 3n] }) })
    // @ts-expect-error a txid is a number, bigint or string
    useShapeMutation<Todo, number>(shape, { apply: () => undefined, commit: async () => ({ txid: true }) })
  })

  it('takes shape options, types the callbacks, and a testing server write is a commit', () => {
    const todos = shapeOptions<Todo>({ url: 'http://x/v1/shape', params: { table: 'todos' } })
    const toggle = useShapeMutation(todos, {
      apply: (draft, id: number) => {
        expectTypeOf(draft).toEqualTypeOf<MutationDraft<Todo>>()
        draft.update({ id, done: true })
      },
      commit: async (id) => ({ txid: id }),
      onSuccess: (data, id) => {
        expectTypeOf(data).toEqualTypeOf<MutationResult>()
        expectTypeOf(id).toEqualTypeOf<number>()
      },
      onError: (error, id) => {
        expectTypeOf(error).toEqualTypeOf<unknown>()
        expectTypeOf(id).toEqualTypeOf<number>()
      },
      onSettled: (data) => expectTypeOf(data).toEqualTypeOf<MutationResult | undefined>(),
    })
    expectTypeOf(toggle).toEqualTypeOf<UseShapeMutationResult<number>>()
    expectTypeOf(toggle.variables).toEqualTypeOf<number | undefined>()
    expectTypeOf(toggle.status).toEqualTypeOf<'idle' | 'pending' | 'success' | 'error'>()
    toggle.mutate(1, { onSuccess: (data) => expectTypeOf(data).toEqualTypeOf<MutationResult>() })
    // @ts-expect-error the variables are a number
    toggle.mutate('1')
    // Without variables, mutate() takes none.
    useShapeMutation(todos, { apply: (draft) => draft.delete('"public"."todos"/"1"'), commit: () => 1 }).mutate()
    const server = createTestShapeServer()
    useShapeMutation(todos, { apply: (draft, todo: Todo) => draft.insert(todo), commit: (todo) => server.insert('todos', { ...todo }) })
    expectTypeOf(useShapeRowPending(todos, 'k')).toEqualTypeOf<boolean>()
  })

  it('useShapeRowPending returns a boolean', () => {
    expectTypeOf(useShapeRowPending(shape, 'k')).toEqualTypeOf<boolean>()
  })
})
