/**
 * `browserPageHide()`: `pagehide` and `visibilitychange` to hidden call the listener; unsubscribing removes both.
 */
import { describe, expect, it } from 'vitest'
import { browserPageHide } from '../../src/core/persist/pageHide'

describe('browserPageHide', () => {
  it('calls back on pagehide and on hidden, not on visible, and nothing after unsubscribe', () => {
    const adapter = browserPageHide()
    expect(adapter).toBeDefined()
    let calls = 0
    const off = adapter!.subscribe(() => calls++)
    window.dispatchEvent(new Event('pagehide'))
    expect(calls).toBe(1)
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true })
    document.dispatchEvent(new Event('visibilitychange'))
    expect(calls).toBe(2)
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false })
    document.dispatchEvent(new Event('visibilitychange'))
    expect(calls).toBe(2)
    off()
    window.dispatchEvent(new Event('pagehide'))
    expect(calls).toBe(2)
  })
})
