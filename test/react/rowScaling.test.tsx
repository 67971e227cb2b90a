/**
 * Per-row hooks cost O(1) hook work per single-row update, whatever the number of subscribers: proven by counting the
 * calls the hooks make into the shape (not by timing), through a counting wrapper around the real `Shape`.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { memo } from 'react'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import type { Shape } from '../../src/core/index'
import { useShapeKeys, useShapeRow } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

interface Calls {
  /** `getRow` calls by key. */
  getRow: Map<string, number>
  /** Per-key listener invocations by key. */
  keyListener: Map<string, number>
  subscribeKey: number
  subscribe: number
  listener: number
  getSnapshot: number
}

function newCalls(): Calls {
  return { getRow: new Map(), keyListener: new Map(), subscribeKey: 0, subscribe: 0, listener: 0, getSnapshot: 0 }
}

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1)
}

/** `shape` with every read and subscription the hooks can make counted into `calls.current`. */
function countingShape<T>(shape: Shape<T>, calls: { current: Calls }): Shape<T> {
  return new Proxy(shape, {
    get(target, property) {
      switch (property) {
        case 'getRow':
          return (key: string) => {
            bump(calls.current.getRow, key)
            return target.getRow(key)
          }
        case 'getSnapshot':
          return () => {
            calls.current.getSnapshot += 1
            return target.getSnapshot()
          }
        case 'subscribeKey':
          return (key: string, listener: () => void) => {
            calls.current.subscribeKey += 1
            return target.subscribeKey(key, () => {
              bump(calls.current.keyListener, key)
              listener()
            })
          }
        case 'subscribe':
          return (listener: () => void) => {
            calls.current.subscribe += 1
            return target.subscribe(() => {
              calls.current.listener += 1
              listener()
            })
          }
        default: {
          const value: unknown = Reflect.get(target, property, target)
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        }
      }
    },
  })
}

const ROWS = 10_000

describe('per-row hooks at scale', () => {
  it('a single-row update among 10,000 useShapeRow subscribers calls into the shape for that key only', async () => {
    harness = createHarness(makeItems(ROWS))
    const h = harness
    const real = h.client.shape<Item>(h.options())
    const release = real.retain()
    await real.whenUpToDate()
    const calls = { current: newCalls() }
    const shape = countingShape(real, calls)
    const rendered = new Map<number, number>()
    let listRenders = 0

    const Row = memo(function Row({ rowKey }: { rowKey: string }) {
      const item = useShapeRow(shape, rowKey)
      if (item) rendered.set(item.id, (rendered.get(item.id) ?? 0) + 1)
      return item ? <li>{item.title}</li> : null
    })
    function List() {
      const keys = useShapeKeys(shape)
      listRenders += 1
      return <ul>{keys.map((key) => <Row key={key} rowKey={key} />)}</ul>
    }
    const view = render(<List />, { wrapper: h.wrapper })
    expect(view.container.querySelectorAll('li')).toHaveLength(ROWS)
    // Mount: one key subscription per row, one whole-shape subscription (the list's), none per row.
    expect(calls.current.subscribeKey).toBe(ROWS)
    expect(calls.current.subscribe).toBe(1)

    const target = real.getSnapshot().keys[ROWS / 2]
    if (target === undefined) throw new Error('no key in the middle of the shape')
    calls.current = newCalls()
    rendered.clear()
    listRenders = 0

    act(() => h.server.source.update(h.table, { id: ROWS / 2 + 1, title: 'changed' }))
    await waitFor(() => expect(rendered.get(ROWS / 2 + 1)).toBe(1))
    expect(view.container.querySelectorAll('li')[ROWS / 2]?.textContent).toBe('changed')

    const counted = calls.current
    // Only the changed key's listener ran, once; no other row was asked for its row.
    expect([...counted.keyListener.entries()]).toEqual([[target, 1]])
    expect([...counted.getRow.keys()]).toEqual([target])
    // A constant number of reads of that row (render + useSyncExternalStore's consistency checks), not O(rows).
    expect(counted.getRow.get(target)).toBeLessThanOrEqual(4)
    // The list's whole-shape subscription: one call per publish, a constant number of snapshot reads, no re-render.
    expect(counted.listener).toBe(1)
    expect(counted.getSnapshot).toBeLessThanOrEqual(4)
    expect(listRenders).toBe(0)
    // Nothing re-subscribed, and exactly one row component rendered.
    expect(counted.subscribeKey).toBe(0)
    expect(counted.subscribe).toBe(0)
    expect([...rendered.entries()]).toEqual([[ROWS / 2 + 1, 1]])
    release()
  }, 120_000)
})
