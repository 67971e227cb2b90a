/**
 * Optimistic rows: a list whose Add buttons show the new row at once (marked "saving…" until the stream confirms
 * it), with writes the in-page server holds until released or refuses, so each state can be seen and tested.
 */
import { memo, useState } from 'react'
import type { ReactNode } from 'react'
import type { Shape } from '../../src/index'
import { useRetainedShape, useShapeKeys, useShapeMutation, useShapeRow, useShapeRowPending } from '../../src/index'
import { useStoryFixture } from './StoryFixture'
import { ITEMS_TABLE } from './storyFixture'
import type { Item } from './storyFixture'

const ItemRow = memo(function ItemRow({ shape, rowKey }: { shape: Shape<Item>; rowKey: string }): ReactNode {
  const item = useShapeRow(shape, rowKey)
  const saving = useShapeRowPending(shape, rowKey)
  if (!item) return null
  return (
    <li data-testid={`row-${item.id}`} data-pending={saving ? 'true' : 'false'} style={{ opacity: saving ? 0.55 : 1 }}>
      #{item.id} {item.title}
      {saving ? <em> · saving…</em> : null}
    </li>
  )
})

/** The list plus three ways to add: confirmed at once, held until released, refused by the server. */
export function OptimisticItemList(): ReactNode {
  const fixture = useStoryFixture()
  const shape = useRetainedShape<Item>({ url: fixture.url, params: { table: ITEMS_TABLE } })
  const keys = useShapeKeys(shape)
  const [release, setRelease] = useState<(() => void) | undefined>(undefined)
  const add = useShapeMutation<Item, Item>(shape, {
    apply: (draft, item) => draft.insert(item),
    commit: (item) => fixture.server.insert(ITEMS_TABLE, { ...item }),
  })
  const nextItem = (title: string): Item => {
    const ids = shape ? shape.getSnapshot().data.map((item) => item.id) : []
    const id = Math.max(0, ...ids, ...fixture.itemIds()) + 1
    return { id, title: `${title} ${id}`, version: 1 }
  }
  const hold = (): void => {
    let open!: () => void
    fixture.server.delayNextCommit(new Promise<void>((resolve) => (open = resolve)))
    setRelease(() => () => {
      open()
      setRelease(undefined)
    })
    add.mutate(nextItem('Held item'))
  }
  const refuse = (): void => {
    const item = nextItem('Refused item')
    fixture.server.failNextCommit(new Error(`The database refused "${item.title}"`))
    add.mutate(item)
  }
  return (
    <section>
      <p>
        <button type="button" onClick={() => add.mutate(nextItem('Item'))}>
          Add item
        </button>{' '}
        <button type="button" onClick={hold} disabled={release !== undefined}>
          Add item (held by the server)
        </button>{' '}
        {release ? (
          <button type="button" onClick={release}>
            Let the write through
          </button>
        ) : null}{' '}
        <button type="button" onClick={refuse}>
          Add refused item
        </button>
      </p>
      {add.isError ? <p role="alert">Rolled back: {(add.error as Error).message}</p> : null}
      <ul>{shape ? keys.map((key) => <ItemRow key={key} shape={shape} rowKey={key} />) : null}</ul>
    </section>
  )
}
