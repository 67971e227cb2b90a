import { afterEach, describe, expect, it, vi } from 'vitest'
import { browserVisibility } from '../../src/core/visibility'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('browserVisibility', () => {
  it('is undefined where there is no document (Node, workers, SSR)', () => {
    expect(browserVisibility()).toBeUndefined()
  })

  it('follows document.hidden and visibilitychange, and unsubscribes cleanly', () => {
    const target = new EventTarget()
    const doc = Object.assign(target, { hidden: false })
    vi.stubGlobal('document', doc)
    const visibility = browserVisibility()
    expect(visibility).toBeDefined()
    const seen: boolean[] = []
    const unsubscribe = visibility!.subscribe(() => seen.push(visibility!.isHidden()))
    doc.hidden = true
    target.dispatchEvent(new Event('visibilitychange'))
    doc.hidden = false
    target.dispatchEvent(new Event('visibilitychange'))
    unsubscribe()
    target.dispatchEvent(new Event('visibilitychange'))
    expect(seen).toEqual([true, false])
  })
})
