import { describe, it, expect, afterEach } from 'vitest'
import { memo, StrictMode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { TxidTimeoutError } from '../../src/core/index'
import type { MutationResult, Shape } from '../../src/core/index'
import { useRetainedShape, useShape, useShapeKeys, useShapeMutation, useShapeRow, useShapeRowPending } from '../../src/react/index'
import type { UseShapeMutationResult } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

describe('useShapeMutation', () => {
  it('an optimistic change to one row of 1,000 re-renders that one row component, and its confirmation that row only', async () => {
    harness = createHarness(makeItems(1000))
    const h = harness
    const renders = new Map<number, number>()
    let listRenders = 0
    let toggle: UseShapeMutationResult<number> | undefined
    let hold: (() => void) | undefined
    const Row = memo(function Row({ shape, rowKey }: { shape: Shape<Item>; rowKey: string }) {
      const item = useShapeRow(shape, rowKey)
      const saving = useShapeRowPending(shape, rowKey)
      if (item) renders.set(item.id, (renders.get(item.id) ?? 0) + 1)
      return item ? <li data-testid={`row-${item.id}`}>{`${item.title}:${String(item.done)}${saving ? ' (saving)' : ''}`}</li> : null
    })
    function List() {
      const shape = useRetainedShape<Item>(h.options())
      const keys = useShapeKeys(shape)
      toggle = useShapeMutation<Item, number>(shape, {
        apply: (draft, id) => draft.update({ id, done: true }),
        commit: (id) => {
          h.server.delayNextCommit(new Promise<void>((resolve) => (hold = resolve)))
          return h.server.update(h.table, { id, done: true })
        },
      })
      listRenders += 1
      return <ul>{shape ? keys.map((key) => <Row key={key} shape={shape} rowKey={key} />) : null}</ul>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('item 1000:false')
    renders.clear()
    listRenders = 0

    let confirmed: Promise<MutationResult> | undefined
    act(() => {
      confirmed = toggle?.mutateAsync(500)
    })
    // Shown before the write even reached the database.
    expect(screen.getByTestId('row-500').textContent).toBe('item 500:true (saving)')
    expect(h.server.source.rows(h.table).find((row) => row.id === '500')?.done).toBe('false')
    expect([...renders.entries()]).toEqual([[500, 1]])
    expect(listRenders).toBe(1) // the hook's own isPending state
    expect(toggle?.isPending).toBe(true)

    renders.clear()
    listRenders = 0
    await act(async () => {
      hold?.()
      await confirmed
    })
    expect(screen.getByTestId('row-500').textContent).toBe('item 500:true')
    expect([...renders.keys()]).toEqual([500])
    expect(toggle?.isPending).toBe(false)
    expect(toggle?.isSuccess).toBe(true)
    expect(toggle?.data?.txids).toHaveLength(1)
  }, 30_000)

  it('useShape data + memo rows: an optimistic update, its confirmation and a rollback each re-render only the row they touch', async () => {
    harness = createHarness(makeItems(200))
    const h = harness
    const renders = new Map<number, number>()
    let toggle: UseShapeMutationResult<number> | undefined
    let refuse!: (error: Error) => void
    const refusal = new Promise<never>((_resolve, reject) => (refuse = reject))
    const Row = memo(function Row({ item }: { item: Item }) {
      renders.set(item.id, (renders.get(item.id) ?? 0) + 1)
      return <li>{`${item.title}:${String(item.done)}`}</li>
    })
    function List() {
      const { data, shape } = useShape<Item>(h.options())
      toggle = useShapeMutation<Item, number>(shape, {
        apply: (draft, id) => draft.update({ id, done: true }),
        commit: (id) => (id === 9 ? refusal : h.server.update(h.table, { id, done: true })),
      })
      return <ul>{data.map((item) => <Row key={item.id} item={item} />)}</ul>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('item 200:false')
    renders.clear()
    let confirmed: Promise<MutationResult> | undefined
    act(() => {
      confirmed = toggle?.mutateAsync(7)
    })
    expect(screen.getByText('item 7:true')).toBeTruthy()
    expect([...renders.entries()]).toEqual([[7, 1]])
    renders.clear()
    await act(async () => {
      await confirmed
    })
    expect(screen.getByText('item 7:true')).toBeTruthy()
    // The confirming publish swaps the optimistic row for the synced one: a new object, the same fields.
    expect([...renders.keys()].filter((id) => id !== 7)).toEqual([])

    renders.clear()
    let refused: Promise<unknown> | undefined
    act(() => {
      refused = toggle?.mutateAsync(9).catch(() => undefined)
    })
    expect(screen.getByText('item 9:true')).toBeTruthy()
    await act(async () => {
      refuse(new Error('refused'))
      await refused
    })
    expect(screen.getByText('item 9:false')).toBeTruthy()
    expect([...renders.entries()]).toEqual([[9, 2]])
  }, 30_000)

  it('a refused write rolls back, sets error and calls onError; reset returns to idle', async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    const errors: unknown[] = []
    let add: UseShapeMutationResult<Item> | undefined
    function List() {
      const { data, shape } = useShape<Item>(h.options())
      add = useShapeMutation<Item, Item>(shape, {
        apply: (draft, item) => draft.insert(item),
        commit: (item) => h.server.insert(h.table, { ...item }),
        onError: (error) => errors.push(error),
      })
      return (
        <>
          <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
          {add.error ? <p role="alert">{(add.error as Error).message}</p> : null}
        </>
      )
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('item 3')
    // As TanStack Query's useMutation: `error` is null, not undefined, while there is none.
    expect(add?.error).toBeNull()
    h.server.failNextCommit(new Error('title refused'))
    act(() => add?.mutate({ id: 4, title: 'refused', done: false }))
    expect(add?.error).toBeNull()
    expect(screen.getByText('refused')).toBeTruthy()
    await screen.findByRole('alert')
    expect(screen.queryByText('refused')).toBeNull()
    expect(screen.getByRole('alert').textContent).toBe('title refused')
    expect(errors).toHaveLength(1)
    expect(add?.isError).toBe(true)
    act(() => add?.reset())
    expect(add?.isIdle).toBe(true)
    expect(add?.error).toBeNull()
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('takes shape options instead of a shape; a write whose txid never arrives rolls back and rejects with TxidTimeoutError', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    let add: UseShapeMutationResult<Item> | undefined
    const errors: unknown[] = []
    let committed: (() => void) | undefined
    const commitDone = new Promise<void>((resolve) => (committed = resolve))
    function List() {
      const { data } = useShape<Item>(h.options())
      add = useShapeMutation<Item, Item>(h.options(), {
        apply: (draft, item) => draft.insert(item),
        // A txid of a transaction that never reaches this shape.
        commit: async () => {
          committed?.()
          return { txid: 4_242_424 }
        },
        onError: (error) => errors.push(error),
        timeoutMs: 5_000,
      })
      return (
        <>
          <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
          <p data-testid="state">{add.status}</p>
        </>
      )
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('item 2')
    let result: Promise<unknown> | undefined
    act(() => {
      result = add?.mutateAsync({ id: 3, title: 'unconfirmed', done: false }).catch((error: unknown) => error)
    })
    expect(screen.getByText('unconfirmed')).toBeTruthy()
    expect(screen.getByTestId('state').textContent).toBe('pending')
    expect(h.client.size).toBe(1)
    await act(async () => {
      await commitDone
      await Promise.resolve()
    })
    act(() => h.clock.advance(4_999))
    expect(screen.getByText('unconfirmed')).toBeTruthy()
    await act(async () => h.clock.advance(1))
    const error = await result
    expect(error).toBeInstanceOf(TxidTimeoutError)
    expect(error).toMatchObject({ reason: 'timeout', txids: ['4242424'] })
    expect(screen.queryByText('unconfirmed')).toBeNull()
    expect(screen.getByTestId('state').textContent).toBe('error')
    expect(errors).toEqual([error])
    expect(add?.error).toBe(error)
  })

  it('works under StrictMode: one write, one row, confirmed', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    let commits = 0
    let add: UseShapeMutationResult<Item> | undefined
    function List() {
      const { data, shape } = useShape<Item>(h.options())
      add = useShapeMutation<Item, Item>(shape, {
        apply: (draft, item) => draft.insert(item),
        commit: (item) => {
          commits += 1
          return h.server.insert(h.table, { ...item })
        },
      })
      return <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
    }
    render(
      <StrictMode>
        <List />
      </StrictMode>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('item 2')
    await act(async () => {
      await add?.mutateAsync({ id: 3, title: 'strict', done: false })
    })
    expect(screen.getAllByText('strict')).toHaveLength(1)
    expect(commits).toBe(1)
    expect(h.client.size).toBe(1)
    await waitFor(() => expect(add?.isSuccess).toBe(true))
  })
  it("runs a call's own callbacks only for the latest call and only while mounted, as TanStack Query does", async () => {
    harness = createHarness(makeItems(1))
    const h = harness
    const outcomes: string[] = []
    let add: UseShapeMutationResult<Item> | undefined
    let shape: Shape<Item> | undefined
    function List() {
      const result = useShape<Item>(h.options())
      shape = result.shape
      add = useShapeMutation<Item, Item>(result.shape, {
        apply: (draft, item) => draft.insert(item),
        commit: (item) => h.server.insert(h.table, { ...item }),
      })
      return <p>{result.data.length}</p>
    }
    const view = render(<List />, { wrapper: h.wrapper })
    await screen.findByText('1')
    await act(async () => {
      add?.mutate({ id: 2, title: 'first', done: false }, { onSuccess: () => outcomes.push('first'), onSettled: () => outcomes.push('first settled') })
      add?.mutate({ id: 3, title: 'second', done: false }, { onSuccess: () => outcomes.push('second'), onSettled: () => outcomes.push('second settled') })
    })
    await screen.findByText('3')
    await waitFor(() => expect(outcomes).toEqual(['second', 'second settled']))
    await act(() => shape!.whenUpToDate())
    expect(outcomes).toEqual(['second', 'second settled'])

    act(() => {
      add?.mutate({ id: 4, title: 'after unmount', done: false }, { onSuccess: () => outcomes.push('unmounted'), onError: () => outcomes.push('unmounted error') })
    })
    view.unmount()
    // The pending write keeps the shape open until the stream confirms it, with nobody left to tell.
    await waitFor(() => expect(shape!.isPending(shape!.rowKey({ id: 4 }))).toBe(false))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(outcomes).toEqual(['second', 'second settled'])
  })

  it('a throwing callback never changes a write: a confirmed write stays a success, a refused one keeps its error, the throw is reported', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const reported: unknown[] = []
    const host = globalThis as { reportError?: (error: unknown) => void }
    const original = host.reportError
    host.reportError = (error) => reported.push(error)
    try {
      const seen: string[] = []
      let add: UseShapeMutationResult<Item> | undefined
      function List() {
        const { data, shape } = useShape<Item>(h.options())
        add = useShapeMutation<Item, Item>(shape, {
          apply: (draft, item) => draft.insert(item),
          commit: (item) => h.server.insert(h.table, { ...item }),
          onSuccess: () => {
            throw new Error('onSuccess broke')
          },
          onError: () => {
            throw new Error('onError broke')
          },
          onSettled: (_data, error) => seen.push(error === null ? 'settled ok' : `settled ${(error as Error).message}`),
        })
        return <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
      }
      render(<List />, { wrapper: h.wrapper })
      await screen.findByText('item 2')

      let result: MutationResult | undefined
      await act(async () => {
        result = await add?.mutateAsync({ id: 3, title: 'landed', done: false })
      })
      expect(result?.txids).toHaveLength(1)
      expect(add?.isSuccess).toBe(true)
      expect(screen.getByText('landed')).toBeTruthy()
      expect(seen).toEqual(['settled ok'])
      expect(reported.map((error) => (error as Error).message)).toEqual(['onSuccess broke'])

      // Per-call callbacks of `mutate`: the write's own outcome reaches them, not the hook callback's throw.
      const outcomes: string[] = []
      h.server.failNextCommit(new Error('title refused'))
      await act(async () => {
        add?.mutate(
          { id: 4, title: 'refused', done: false },
          { onSuccess: () => outcomes.push('success'), onError: (error) => outcomes.push((error as Error).message) },
        )
      })
      await waitFor(() => expect(outcomes).toEqual(['title refused']))
      expect(add?.isError).toBe(true)
      expect((add?.error as Error).message).toBe('title refused')
      expect(reported.map((error) => (error as Error).message)).toEqual(['onSuccess broke', 'onError broke'])
      expect(seen).toEqual(['settled ok', 'settled title refused'])
    } finally {
      if (original === undefined) delete host.reportError
      else host.reportError = original
    }
  })
})
