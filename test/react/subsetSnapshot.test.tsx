import { afterEach, describe, expect, it, vi } from 'vitest'
import { act, cleanup, render, screen } from '@testing-library/react'
import { shapeOptions, ShapeRequestError } from '../../src/core/index'
import { resetDefaultShapeClient, useShape, useSubsetSnapshot } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  resetDefaultShapeClient()
  await harness?.close()
  harness = undefined
})

describe('useSubsetSnapshot', () => {
  it('loads a page into a changes_only shape, the next page on a new subset, and keeps the loaded rows live', async () => {
    harness = createHarness(makeItems(6))
    const h = harness
    const items = shapeOptions<Item>({ ...h.options(), log: 'changes_only' })
    const requestSnapshot = vi.spyOn(h.client.shape(items), 'requestSnapshot')
    function Page({ page }: { page: number }) {
      const { isLoading, data: pageRows, error } = useSubsetSnapshot(items, { orderBy: 'id', limit: 2, offset: page * 2 })
      const { data } = useShape(items)
      if (error) return <p>{`error:${error.message}`}</p>
      return <p>{`${isLoading ? 'loading' : `page:${pageRows?.map((row) => row.id).join(',')}`} shape:${data.map((row) => row.title).join(',')}`}</p>
    }
    const view = render(<Page page={0} />, { wrapper: h.wrapper })
    await screen.findByText('page:1,2 shape:item 1,item 2', {}, { timeout: 10_000 })
    view.rerender(<Page page={0} />)
    expect(requestSnapshot).toHaveBeenCalledTimes(1)

    view.rerender(<Page page={1} />)
    await screen.findByText('page:3,4 shape:item 1,item 2,item 3,item 4', {}, { timeout: 10_000 })
    expect(requestSnapshot).toHaveBeenCalledTimes(2)

    act(() => h.server.source.update(h.table, { id: 3, title: 'third, live' }))
    await screen.findByText('page:3,4 shape:item 1,item 2,third, live,item 4', {}, { timeout: 10_000 })
  })

  it('loads the page again from the new log after a 409 emptied the shape', async () => {
    // DELETE is refused unless allowed (handler.ts), so the test server allows it to drop the shape.
    harness = createHarness(makeItems(4), {}, { allowDelete: true })
    const h = harness
    const items = shapeOptions<Item>({ ...h.options(), log: 'changes_only' })
    function Page() {
      const { isLoading } = useSubsetSnapshot(items, { orderBy: 'id', limit: 2 })
      const { data } = useShape(items)
      return <p>{`${isLoading ? 'loading' : 'loaded'} shape:${data.map((row) => row.id).join(',')}`}</p>
    }
    render(<Page />, { wrapper: h.wrapper })
    await screen.findByText('loaded shape:1,2', {}, { timeout: 10_000 })
    const shape = h.client.shape(items)
    const before = shape.getStatus().handle
    const dropped = await h.server.fetch(`${h.server.url}?table=${h.table}&handle=${before ?? ''}`, { method: 'DELETE' })
    expect(dropped.status).toBe(202)
    await screen.findByText('loaded shape:1,2', {}, { timeout: 10_000 })
    await act(async () => {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (shape.getStatus().handle !== before && shape.getSnapshot().data.length === 2) resolve()
        }
        shape.subscribe(check)
        shape.subscribeStatus(check)
        check()
      })
    })
    expect(shape.getStatus().handle).not.toBe(before)
    // The rows are in the shape before the hook hears that its page request settled: wait for the page's state too.
    expect(await screen.findByText('loaded shape:1,2', {}, { timeout: 10_000 })).toBeTruthy()
  })

  it('reports a refused subset as the error of the latest request', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const items = shapeOptions<Item>({ ...h.options(), log: 'changes_only' })
    let seen: unknown
    function Page() {
      const { error, isLoading } = useSubsetSnapshot(items, { where: 'no_such_column = 1', orderBy: 'id' })
      seen = error
      return <p>{isLoading ? 'loading' : error ? 'failed' : 'loaded'}</p>
    }
    render(<Page />, { wrapper: h.wrapper })
    await screen.findByText('failed', {}, { timeout: 10_000 })
    expect(seen).toBeInstanceOf(ShapeRequestError)
  })
})
