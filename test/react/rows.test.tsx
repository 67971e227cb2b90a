import { describe, it, expect, afterEach } from 'vitest'
import { memo } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import type { Shape } from '../../src/core/index'
import { useRetainedShape, useShape, useShapeKeys, useShapeRow } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

const ROWS = 1000

function renderCounter() {
  const byId = new Map<number, number>()
  return {
    byId,
    hit(id: number) {
      byId.set(id, (byId.get(id) ?? 0) + 1)
    },
    total() {
      let sum = 0
      for (const count of byId.values()) sum += count
      return sum
    },
  }
}

describe('per-row re-renders', () => {
  it('useShapeKeys + useShapeRow: a single-row update in a 1,000-row shape re-renders exactly one row and not the list', async () => {
    harness = createHarness(makeItems(ROWS))
    const h = harness
    const rows = renderCounter()
    let listRenders = 0
    const Row = memo(function Row({ shape, rowKey }: { shape: Shape<Item>; rowKey: string }) {
      const item = useShapeRow(shape, rowKey)
      if (item) rows.hit(item.id)
      return item ? <li>{item.title}</li> : null
    })
    function List() {
      const shape = useRetainedShape<Item>(h.options())
      const keys = useShapeKeys(shape)
      listRenders += 1
      return <ul>{shape ? keys.map((key) => <Row key={key} shape={shape} rowKey={key} />) : null}</ul>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText(`item ${ROWS}`)
    expect(rows.byId.size).toBe(ROWS)
    rows.byId.clear()
    listRenders = 0

    act(() => h.server.source.update(h.table, { id: 500, title: 'changed' }))
    await screen.findByText('changed')
    expect(rows.total()).toBe(1)
    expect(rows.byId.get(500)).toBe(1)
    expect(listRenders).toBe(0)

    rows.byId.clear()
    act(() => h.server.source.insert(h.table, { id: ROWS + 1, title: 'new one', done: false }))
    await screen.findByText('new one')
    expect(listRenders).toBe(1)
    expect([...rows.byId.entries()]).toEqual([[ROWS + 1, 1]])

    rows.byId.clear()
    listRenders = 0
    act(() => h.server.source.delete(h.table, { id: 1 }))
    await waitFor(() => expect(screen.queryByText('item 1')).toBeNull())
    expect(listRenders).toBe(1)
    expect(rows.total()).toBe(0)
  }, 30_000)

  it('useShape data + memo rows taking the row object: one changed row re-renders one row component', async () => {
    harness = createHarness(makeItems(ROWS))
    const h = harness
    const rows = renderCounter()
    const Row = memo(function Row({ item }: { item: Item }) {
      rows.hit(item.id)
      return <li>{`${item.title}:${String(item.done)}`}</li>
    })
    function List() {
      const { data } = useShape<Item>(h.options())
      return <ul>{data.map((item) => <Row key={item.id} item={item} />)}</ul>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText(`item ${ROWS}:false`)
    rows.byId.clear()
    act(() => h.server.source.update(h.table, { id: 7, done: true }))
    await screen.findByText('item 7:true')
    expect([...rows.byId.entries()]).toEqual([[7, 1]])
  }, 30_000)
})
