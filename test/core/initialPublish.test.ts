import { describe, expect, it } from 'vitest'
import type { Message, Row } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'

const insert = (key: string, id: number): Message<Row> => ({ key, value: { id }, headers: { operation: 'insert' } })
const remove = (key: string): Message<Row> => ({ key, value: {}, headers: { operation: 'delete' } })
const upToDate: Message<Row> = { headers: { control: 'up-to-date' } }

describe('the first publish (the pending layer becomes the published rows)', () => {
  it('drops keys removed before the first up-to-date, whether applied or staged', () => {
    const store = new ShapeStore<Row>()
    store.stage([insert('a', 1), insert('b', 2), remove('b')])
    store.settleStaged(true)
    store.applyBatch([insert('c', 3), remove('a'), upToDate])
    expect(store.getSnapshot().keys).toEqual(['c'])
    expect(store.getSnapshot().rows.size).toBe(1)
  })

  it('publishes every row when nothing was removed, and drops a removal made after a publish of nothing', () => {
    const store = new ShapeStore<Row>()
    store.applyBatch([upToDate])
    store.applyBatch([insert('a', 1), insert('b', 2), remove('a'), upToDate])
    expect(store.getSnapshot().keys).toEqual(['b'])
    const fresh = new ShapeStore<Row>()
    fresh.applyBatch([insert('a', 1), insert('b', 2), upToDate])
    expect(fresh.getSnapshot().data).toEqual([{ id: 1 }, { id: 2 }])
  })
})
