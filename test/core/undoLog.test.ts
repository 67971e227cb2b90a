import { describe, expect, it } from 'vitest'
import { setLogged, undo, undoLogOf } from '../../src/core/undoLog'

describe('undoLog', () => {
  it('restores any Map exactly, order included, after any run of sets', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 16) % n
    }
    for (let round = 0; round < 300; round++) {
      const map = new Map<string, number | undefined>()
      for (let i = random(8); i > 0; i--) map.set(`k${random(12)}`, random(2) === 0 ? undefined : random(100))
      const before = [...map.entries()]
      const log = undoLogOf(map)
      for (let i = random(10); i > 0; i--) setLogged(map, `k${random(16)}`, random(3) === 0 ? undefined : random(100), log)
      undo(map, log)
      expect([...map.entries()]).toEqual(before)
    }
  })

  it('records nothing for first writes of new keys, and only overwrites otherwise', () => {
    const map = new Map<string, number>([['a', 1]])
    const log = undoLogOf(map)
    setLogged(map, 'b', 2, log)
    setLogged(map, 'c', 3, log)
    expect(log.keys).toEqual([])
    setLogged(map, 'a', 10, log)
    setLogged(map, 'b', 20, log)
    expect(log.keys).toEqual(['a', 'b'])
    expect(log.previous).toEqual([1, 2])
    undo(map, log)
    expect([...map.entries()]).toEqual([['a', 1]])
  })

  it('records nothing on a Map that was empty when the log began, overwrites included, and undo empties it', () => {
    const map = new Map<string, number>()
    const log = undoLogOf(map)
    setLogged(map, 'a', 1, log)
    setLogged(map, 'b', 2, log)
    setLogged(map, 'a', 3, log)
    expect(log.keys).toEqual([])
    expect([...map.entries()]).toEqual([['a', 3], ['b', 2]])
    undo(map, log)
    expect(map.size).toBe(0)
  })
})
