/**
 * React 19 actions (`useActionState`, `<form action>`) with `useShapeMutation`, under StrictMode. In test/jsdom (React
 * 19 only) because React 18 has no actions.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { StrictMode, useActionState, useTransition } from 'react'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { useShape, useShapeMutation } from '../../src/react/index'
import { createHarness, makeItems } from '../react/support/harness'
import type { Harness, Item } from '../react/support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

function App({ h }: { h: Harness }) {
  const { data, shape } = useShape<Item>(h.options())
  const { mutateAsync } = useShapeMutation<Item, Item>(shape, {
    apply: (draft, item) => draft.insert(item),
    commit: (item) => h.server.insert(h.table, { ...item }),
  })
  const [message, formAction, isPending] = useActionState(async (_previous: string, form: FormData) => {
    try {
      await mutateAsync({ id: Number(form.get('id')), title: String(form.get('title')), done: false })
      return 'saved'
    } catch (error) {
      return `failed: ${(error as Error).message}`
    }
  }, '')
  return (
    <>
      <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
      <form action={formAction} aria-label="add">
        <input name="id" aria-label="id" defaultValue="3" />
        <input name="title" aria-label="title" defaultValue="from the form" />
        <button type="submit">Add</button>
      </form>
      <output>{isPending ? 'pending' : message}</output>
    </>
  )
}

describe('useShapeMutation with React 19 actions', () => {
  it('a <form action> shows the row before the write commits, then confirms; a refused one rolls back with a message', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    render(
      <StrictMode>
        <App h={h} />
      </StrictMode>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('item 2')
    let release!: () => void
    h.server.delayNextCommit(new Promise<void>((resolve) => (release = resolve)))
    fireEvent.submit(screen.getByRole('form', { name: 'add' }))
    await screen.findByText('from the form')
    expect(screen.getByRole('status').textContent).toBe('pending')
    expect(h.server.source.rows(h.table)).toHaveLength(2)
    await act(async () => release())
    await screen.findByText('saved')
    expect(h.server.source.rows(h.table)).toHaveLength(3)
    expect(screen.getAllByText('from the form')).toHaveLength(1)

    h.server.failNextCommit(new Error('title refused'))
    fireEvent.change(screen.getByLabelText('id'), { target: { value: '4' } })
    fireEvent.change(screen.getByLabelText('title'), { target: { value: 'refused one' } })
    fireEvent.submit(screen.getByRole('form', { name: 'add' }))
    await screen.findByText('failed: title refused')
    expect(screen.queryByText('refused one')).toBeNull()
    expect(h.server.source.rows(h.table)).toHaveLength(3)
  })

  it("the hook's own isPending and status follow a write started in a <form action> or startTransition, as useMutation's do", async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    function Form() {
      const { data, shape } = useShape<Item>(h.options())
      const { mutateAsync, isPending, status, variables } = useShapeMutation<Item, Item>(shape, {
        apply: (draft, item) => draft.insert(item),
        commit: (item) => h.server.insert(h.table, { ...item }),
      })
      const [, startTransition] = useTransition()
      const add = (id: number) => mutateAsync({ id, title: `added ${id}`, done: false })
      return (
        <>
          <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
          <form action={async () => void (await add(3))} aria-label="add">
            <button type="submit" disabled={isPending}>Add</button>
          </form>
          <button onClick={() => startTransition(async () => void (await add(4)))}>Add in a transition</button>
          <output>{`${status}:${String(isPending)}:${variables?.id ?? '-'}`}</output>
        </>
      )
    }
    render(<Form />, { wrapper: h.wrapper })
    await screen.findByText('item 2')
    let release!: () => void
    h.server.delayNextCommit(new Promise<void>((resolve) => (release = resolve)))
    fireEvent.submit(screen.getByRole('form', { name: 'add' }))
    await screen.findByText('added 3')
    // Before: 'idle:false:-' until the action ended (the update rode the action's transition).
    expect(screen.getByRole('status').textContent).toBe('pending:true:3')
    expect((screen.getByText('Add') as HTMLButtonElement).disabled).toBe(true)
    await act(async () => release())
    await screen.findByText('success:false:3')

    h.server.delayNextCommit(new Promise<void>((resolve) => (release = resolve)))
    fireEvent.click(screen.getByText('Add in a transition'))
    await screen.findByText('added 4')
    // Before: the previous call's 'success:false:3' while this one was pending.
    expect(screen.getByRole('status').textContent).toBe('pending:true:4')
    await act(async () => release())
    await screen.findByText('success:false:4')
  })
})
