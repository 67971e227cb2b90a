import { describe, it, expect, afterEach } from 'vitest'
import { memo, useCallback } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import type { Shape } from '../../src/core/index'
import { ShapeRowList, useRetainedShape, useShapeRow } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

function mountList(h: Harness, groupSize?: number) {
  const counts = { renderRow: 0, rowRenders: new Map<number, number>() }
  const Row = memo(function Row({ shape, rowKey }: { shape: Shape<Item>; rowKey: string }) {
    const item = useShapeRow(shape, rowKey)
    if (item) counts.rowRenders.set(item.id, (counts.rowRenders.get(item.id) ?? 0) + 1)
    return item ? <li>{item.title}</li> : null
  })
  function List() {
    const shape = useRetainedShape<Item>(h.options())
    const renderRow = useCallback(
      (key: string) => {
        counts.renderRow += 1
        return shape ? <Row shape={shape} rowKey={key} /> : null
      },
      [shape],
    )
    return (
      <ul>
        {groupSize === undefined ? (
          <ShapeRowList shape={shape} renderRow={renderRow} />
        ) : (
          <ShapeRowList shape={shape} renderRow={renderRow} groupSize={groupSize} />
        )}
      </ul>
    )
  }
  const view = render(<List />, { wrapper: h.wrapper })
  const titles = () => [...view.container.querySelectorAll('ul > li')].map((li) => li.textContent)
  const reset = () => {
    counts.renderRow = 0
    counts.rowRenders.clear()
  }
  return { counts, titles, reset, view }
}

describe('ShapeRowList', () => {
  it('renders every row in key order as direct children of the list element, adding no DOM of its own', async () => {
    const items = makeItems(1000)
    harness = createHarness(items)
    const list = mountList(harness)
    await screen.findByText('item 1000')
    expect(list.titles()).toEqual(items.map((item) => item.title))
    expect(list.view.container.querySelector('ul')?.childElementCount).toBe(items.length)
  })

  it('a single-row update re-renders that row alone and calls renderRow for no group', async () => {
    harness = createHarness(makeItems(1000))
    const h = harness
    const list = mountList(h)
    await screen.findByText('item 1000')
    list.reset()
    act(() => h.server.source.update(h.table, { id: 321, title: 'changed' }))
    await screen.findByText('changed')
    expect([...list.counts.rowRenders.entries()]).toEqual([[321, 1]])
    expect(list.counts.renderRow).toBe(0)
  })

  it('a membership change re-renders only the groups whose keys changed', async () => {
    const rows = 25
    const groupSize = 10
    harness = createHarness(makeItems(rows))
    const h = harness
    const list = mountList(h, groupSize)
    await screen.findByText(`item ${rows}`)
    list.reset()

    act(() => h.server.source.insert(h.table, { id: rows + 1, title: 'appended', done: false }))
    await screen.findByText('appended')
    // Only the last group changed: it renders its keys again, and only the new row component renders.
    expect(list.counts.renderRow).toBe((rows % groupSize) + 1)
    expect([...list.counts.rowRenders.entries()]).toEqual([[rows + 1, 1]])

    list.reset()
    act(() => h.server.source.delete(h.table, { id: 1 }))
    await waitFor(() => expect(screen.queryByText('item 1')).toBeNull())
    const expected = [...makeItems(rows).slice(1).map((item) => item.title), 'appended']
    expect(list.titles()).toEqual(expected)
    // Every group shifted by one key, so each renders its keys again.
    expect(list.counts.renderRow).toBe(expected.length)
  })

  it('renders nothing without a shape', () => {
    const view = render(
      <ul>
        <ShapeRowList shape={undefined} renderRow={() => <li>never</li>} />
      </ul>,
    )
    expect(view.container.querySelector('ul')?.childElementCount).toBe(0)
  })
})
