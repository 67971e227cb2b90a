/**
 * The leak tests' workload: 50 distinct shapes mounted and unmounted together, a tenth of them with extra consumers
 * (status, keys, one row), through the harness's real `ShapeClient`.
 */
import type { ReactElement } from 'react'
import type { Shape } from '../../../src/core/index'
import { useShape, useShapeKeys, useShapeRow, useShapeStatus } from '../../../src/react/index'
import type { Harness, Item } from './harness'

/** What the test renders and expects. */
export interface FiftyShapes {
  /** All 50 `One`s when `on`, none otherwise, inside `data-testid="many"`. */
  Many: (props: { on: boolean }) => ReactElement
  /** The text of `many` once every shape is synced and live. */
  syncedText: string
}

/** Builds the workload on `h`; `onShape` sees each rendered `Shape` (the test must not hold it strongly). */
export function fiftyShapes(h: Harness, onShape?: (id: number, shape: Shape<Item>) => void): FiftyShapes {
  const ids = Array.from({ length: 50 }, (_, index) => index)
  function Others({ shape }: { shape: Shape<Item> | undefined }) {
    const status = useShapeStatus(shape)
    const keys = useShapeKeys(shape)
    const row = useShapeRow(shape, keys[0] ?? '')
    return <b>{`${status.phase}:${keys.length}:${row ? 'row' : 'none'}`}</b>
  }
  function One({ id }: { id: number }) {
    // A custom param makes 50 distinct shapes for the client (the server ignores it).
    const { data, shape } = useShape<Item>(h.options({ variant: String(id) }))
    if (shape !== undefined) onShape?.(id, shape)
    return (
      <i>
        {data.length}
        {id % 10 === 0 ? <Others shape={shape} /> : null}
      </i>
    )
  }
  function Many({ on }: { on: boolean }) {
    return <div data-testid="many">{on ? ids.map((id) => <One key={id} id={id} />) : null}</div>
  }
  return { Many, syncedText: ids.map((id) => (id % 10 === 0 ? '3live:3:row' : '3')).join('') }
}
