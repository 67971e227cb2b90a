/**
 * In real Chromium: a live list fed by the in-page test server shows its initial rows, then each insert, update and
 * delete the test commits to the source, through the live stream, without reload.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { page } from 'vitest/browser'
import { LiveItemList } from '../../stories/support/LiveItemList'
import { StatusBadge } from '../../stories/support/StatusBadge'
import { itemsShape } from '../../stories/support/itemsShape'
import { createBrowserHarness } from './support/mount'

const harness = createBrowserHarness()
afterEach(() => harness.cleanup())

describe('live list in Chromium', () => {
  it('shows the snapshot, then every committed insert, update and delete', async () => {
    const fixture = harness.fixture()
    harness.mount(
      fixture,
      <>
        <StatusBadge source={itemsShape(fixture.url)} />
        <LiveItemList />
      </>,
    )
    const items = page.getByRole('listitem')
    await expect.element(page.getByTestId('item-3')).toHaveTextContent('#3 Ship it · v1')
    expect(items.elements().map((item) => item.textContent)).toEqual([
      '#1 Buy milk · v1',
      '#2 Write stories · v1',
      '#3 Ship it · v1',
    ])
    await expect.element(page.getByTestId('status-phase')).toHaveTextContent('live')
    const listElement = page.getByTestId('items').element()

    fixture.insertItem('Walk the dog')
    await expect.element(page.getByTestId('item-4')).toHaveTextContent('#4 Walk the dog · v1')

    fixture.updateItem(2)
    await expect.element(page.getByTestId('item-2')).toHaveTextContent('#2 Write stories · v2')

    fixture.deleteItem(1)
    await expect.element(page.getByTestId('item-1')).not.toBeInTheDocument()
    expect(items.elements().map((item) => item.textContent)).toEqual([
      '#2 Write stories · v2',
      '#3 Ship it · v1',
      '#4 Walk the dog · v1',
    ])
    // Same DOM node throughout: the page was never reloaded nor the list remounted.
    expect(page.getByTestId('items').element()).toBe(listElement)
  })

  it('applies a multi-row transaction as one batch', async () => {
    const fixture = harness.fixture()
    harness.mount(fixture, <LiveItemList />)
    await expect.element(page.getByTestId('item-3')).toBeInTheDocument()

    fixture.server.source.transaction((tx) => {
      tx.insert('items', { id: 10, title: 'Ten', version: 1 })
      tx.update('items', { id: 3, title: 'Shipped', version: 2 })
      tx.delete('items', { id: 1 })
    })
    await expect.element(page.getByTestId('item-10')).toBeInTheDocument()
    expect(page.getByRole('listitem').elements().map((item) => item.textContent)).toEqual([
      '#2 Write stories · v1',
      '#3 Shipped · v2',
      '#10 Ten · v1',
    ])
  })
})
