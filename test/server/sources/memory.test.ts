import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../../src/core/errors'
import { createMemorySource } from '../../../src/server/sources/memory'
import { createTestShapeServer } from '../../../src/testing'

const id = { name: 'id', type: 'int4', primaryKey: true }

describe('createMemorySource', () => {
  it('refuses table definitions of the wrong shape with InvalidOptionsError naming what is wrong', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /createMemorySource options must be an object/],
      [{ tables: 5 }, /"tables" must be a list of table definitions/],
      [{ tables: { name: 'items', columns: [id] } }, /"tables" must be a list of table definitions/],
      [{ tables: [{ columns: [id] }] }, /table #1 needs a "name"/],
      [{ tables: [{ name: 'items' }] }, /table "items" needs "columns": a list of \{ name, type \}/],
      [{ tables: [{ name: 'items', columns: [{ name: 'id' }] }] }, /column #1 of "items" needs a string "name" and "type"/],
      [{ tables: [{ name: 'items', columns: [id], rows: { id: 1 } }] }, /"rows" of "items" must be a list of rows/],
    ]
    for (const [options, message] of bad) {
      expect(() => createMemorySource(options as never)).toThrow(InvalidOptionsError)
      expect(() => createMemorySource(options as never)).toThrow(message)
    }
  })

  it('refuses them the same way through createTestShapeServer, the path tests take', () => {
    expect(() => createTestShapeServer({ tables: [{ name: 'items' }] as never })).toThrow(InvalidOptionsError)
  })

  it('creates tables from well-formed definitions', () => {
    const source = createMemorySource({ tables: [{ name: 'items', columns: [id], rows: [{ id: 1 }] }] })
    expect(source.rows('items')).toEqual([{ id: '1' }])
  })
})
