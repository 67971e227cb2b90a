import { describe, expectTypeOf, it } from 'vitest'
import type { MutationDraft, MutationResult, Shape } from '../../src/core/index'
import { useShapeMutation, useShapeRowPending } from '../../src/index'
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

  it('useShapeRowPending returns a boolean', () => {
    expectTypeOf(useShapeRowPending(shape, 'k')).toEqualTypeOf<boolean>()
  })
})
