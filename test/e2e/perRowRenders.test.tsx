/**
 * In real Chromium: with the per-row hooks (`useShapeKeys` + memoized `useShapeRow` rows), a one-row update committed
 * on the server re-renders exactly one row component, in one React commit, and never the list.
 */
import { Profiler } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { page } from 'vitest/browser'
import { PerRowItemList } from '../../stories/support/PerRowItemList'
import { createBrowserHarness } from './support/mount'

const harness = createBrowserHarness()
afterEach(() => harness.cleanup())

function renderCounts(ids: readonly number[]): Record<number, string | null> {
  return Object.fromEntries(ids.map((id) => [id, page.getByTestId(`renders-${id}`).element().textContent]))
}

describe('per-row renders in Chromium', () => {
  it('re-renders one row component per single-row update', async () => {
    const fixture = harness.fixture()
    let commits = 0
    harness.mount(
      fixture,
      <Profiler id="list" onRender={() => (commits += 1)}>
        <PerRowItemList />
      </Profiler>,
    )
    await expect.element(page.getByTestId('row-3')).toBeInTheDocument()
    expect(renderCounts([1, 2, 3])).toEqual({ 1: '1', 2: '1', 3: '1' })
    const listRenders = page.getByTestId('list-renders').element().textContent

    for (const version of [2, 3, 4]) {
      const before = commits
      fixture.updateItem(2)
      await expect.element(page.getByTestId('row-2')).toHaveTextContent(`#2 Write stories · v${version}`)
      expect(commits - before).toBe(1)
    }
    expect(renderCounts([1, 2, 3])).toEqual({ 1: '1', 2: '4', 3: '1' })
    expect(page.getByTestId('list-renders').element().textContent).toBe(listRenders)

    fixture.updateItem(3)
    await expect.element(page.getByTestId('row-3')).toHaveTextContent('#3 Ship it · v2')
    expect(renderCounts([1, 2, 3])).toEqual({ 1: '1', 2: '4', 3: '2' })
  })

  it('renders only the new row on insert and drops only the removed one on delete', async () => {
    const fixture = harness.fixture()
    harness.mount(fixture, <PerRowItemList />)
    await expect.element(page.getByTestId('row-3')).toBeInTheDocument()

    fixture.insertItem()
    await expect.element(page.getByTestId('row-4')).toBeInTheDocument()
    expect(renderCounts([1, 2, 3, 4])).toEqual({ 1: '1', 2: '1', 3: '1', 4: '1' })

    fixture.deleteItem(2)
    await expect.element(page.getByTestId('row-2')).not.toBeInTheDocument()
    expect(renderCounts([1, 3, 4])).toEqual({ 1: '1', 3: '1', 4: '1' })
    expect(page.getByTestId('row-count').element().textContent).toBe('3')
  })
})
