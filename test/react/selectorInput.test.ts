import { describe, expect, it } from 'vitest'
import { selectorInput } from '../../src/react/selectorInput'

/** A frozen result with lazy accessors, as `createShapeResultStore` makes them; counts reads of `data`. */
function lazyResult(): { result: { readonly data: readonly number[]; readonly isLoading: boolean }; reads: () => number } {
  let reads = 0
  const data = Object.freeze([1, 2, 3])
  const result = Object.freeze({
    get data(): readonly number[] {
      reads += 1
      return data
    },
    isLoading: false,
  })
  return { result, reads: () => reads }
}

describe('selectorInput', () => {
  it('is a writable, unfrozen copy: assigning data or any field works and never reaches the result', () => {
    const { result } = lazyResult()
    const input = selectorInput(result)
    expect(Object.isFrozen(input)).toBe(false)
    input.data = input.data.filter((value) => value > 1)
    input.isLoading = true
    expect(input.data).toEqual([2, 3])
    expect(input.isLoading).toBe(true)
    expect(result.data).toEqual([1, 2, 3])
    expect(result.isLoading).toBe(false)
    expect(Object.getOwnPropertyDescriptor(input, 'data')).toMatchObject({ writable: true, enumerable: true, configurable: true })
  })

  it('keeps data lazy: read only when the selector reads it, never when it only replaces it', () => {
    const { result, reads } = lazyResult()
    const replaced = selectorInput(result)
    replaced.data = []
    expect(replaced.isLoading).toBe(false)
    expect(reads()).toBe(0)
    const read = selectorInput(result)
    expect(reads()).toBe(0)
    expect(read.data).toEqual([1, 2, 3])
    expect(reads()).toBe(1)
    expect({ ...selectorInput(result) }).toEqual({ data: [1, 2, 3], isLoading: false })
  })

  it('gives each call its own copy, so an edit in one call is not seen by the next', () => {
    const { result } = lazyResult()
    const first = selectorInput(result)
    first.data = []
    const second = selectorInput(result)
    expect(second).not.toBe(first)
    expect(second.data).toEqual([1, 2, 3])
  })
})
