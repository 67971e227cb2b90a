import { describe, it, expect, afterEach } from 'vitest'
import { StrictMode, memo, useCallback } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import type { Shape } from '../../src/core/index'
import { ShapeRowList, useRetainedShape, useShapeRow } from '../../src/react/index'
import type { ShapeRowGroupInfo } from '../../src/react/ShapeRowList'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

function mountList(h: Harness, groupSize?: number, strict = false) {
  const counts = { renderRow: 0, rowRenders: new Map<number, number>(), groupRenders: [] as ShapeRowGroupInfo[] }
  const onGroupRender = (group: ShapeRowGroupInfo) => counts.groupRenders.push(group)
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
          <ShapeRowList shape={shape} renderRow={renderRow} onGroupRender={onGroupRender} />
        ) : (
          <ShapeRowList shape={shape} renderRow={renderRow} groupSize={groupSize} onGroupRender={onGroupRender} />
        )}
      </ul>
    )
  }
  const view = render(strict ? <StrictMode><List /></StrictMode> : <List />, { wrapper: h.wrapper })
  const titles = () => [...view.container.querySelectorAll('ul > li')].map((li) => li.textContent)
  const reset = () => {
    counts.renderRow = 0
    counts.rowRenders.clear()
    counts.groupRenders.length = 0
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

  it('under StrictMode (double renders and effects), an append still renders only the groups on the path to it', async () => {
    const rows = 25
    harness = createHarness(makeItems(rows))
    const h = harness
    const list = mountList(h, 10, true)
    await screen.findByText(`item ${rows}`)
    list.reset()
    act(() => h.server.source.insert(h.table, { id: rows + 1, title: 'appended', done: false }))
    await screen.findByText('appended')
    const rendered = new Set(list.counts.groupRenders.map((group) => `${group.height}:${group.index}`))
    // The last leaf (index 2 of 3) and the root above it; the two untouched leaves reuse their nodes.
    expect([...rendered].sort()).toEqual(['0:2', '1:0'])
    expect([...list.counts.rowRenders.keys()]).toEqual([rows + 1])
  })

  it('with 10,000 rows, a row update renders that row and no group, and an append renders only the path to the end', async () => {
    const rows = 10_000
    const items = makeItems(rows)
    harness = createHarness(items)
    const h = harness
    const list = mountList(h)
    // Queries by position, not `findByText`: scanning 10,000 nodes per poll would dominate the test.
    const ul = () => list.view.container.querySelector('ul')
    const textAt = (position: number) => ul()?.children[position]?.textContent
    await waitFor(() => expect(ul()?.childElementCount).toBe(rows), { timeout: 30_000 })
    expect(list.titles()).toEqual(items.map((item) => item.title))
    // Mounting renders every group once: 16-key leaves, then branches 16 wide up to a single root.
    const leafCount = Math.ceil(rows / 16)
    const height = Math.ceil(Math.log(leafCount) / Math.log(16))
    expect(Math.max(...list.counts.groupRenders.map((group) => group.height))).toBe(height)
    expect(list.counts.groupRenders.filter((group) => group.height === 0)).toHaveLength(leafCount)

    list.reset()
    act(() => h.server.source.update(h.table, { id: 4321, title: 'changed' }))
    await waitFor(() => expect(textAt(4320)).toBe('changed'))
    expect([...list.counts.rowRenders.entries()]).toEqual([[4321, 1]])
    expect(list.counts.groupRenders).toEqual([])
    expect(list.counts.renderRow).toBe(0)

    list.reset()
    act(() => h.server.source.insert(h.table, { id: rows + 1, title: 'appended', done: false }))
    await waitFor(() => expect(textAt(rows)).toBe('appended'))
    // One group per height, each the ancestor of the new last leaf: O(log n) groups, and one new row.
    const lastLeaf = Math.floor(rows / 16)
    const pathTo = (leaf: number) =>
      Array.from({ length: height + 1 }, (_, level) => ({ height: level, index: Math.floor(leaf / 16 ** level) }))
    expect([...list.counts.groupRenders].sort((a, b) => a.height - b.height)).toEqual(pathTo(lastLeaf))
    expect(list.counts.groupRenders.length).toBeLessThanOrEqual(Math.ceil(Math.log(rows) / Math.log(16)) + 1)
    expect([...list.counts.rowRenders.entries()]).toEqual([[rows + 1, 1]])
    expect(list.counts.renderRow).toBe(1)
    expect(ul()?.childElementCount).toBe(rows + 1)

    list.reset()
    act(() => h.server.source.delete(h.table, { id: rows }))
    await waitFor(() => expect(ul()?.childElementCount).toBe(rows))
    // The removed row's leaf (now ending with the appended key) and its ancestors re-render; the emptied last leaf goes.
    expect([...list.counts.groupRenders].sort((a, b) => a.height - b.height)).toEqual(pathTo(lastLeaf - 1))
    const titles = items.slice(0, -1).map((item) => (item.id === 4321 ? 'changed' : item.title))
    expect(list.titles()).toEqual([...titles, 'appended'])
  }, 60_000)

  it('renders nothing without a shape', () => {
    const view = render(
      <ul>
        <ShapeRowList shape={undefined} renderRow={() => <li>never</li>} />
      </ul>,
    )
    expect(view.container.querySelector('ul')?.childElementCount).toBe(0)
  })
})
