import { describe, it, expect } from 'vitest'
import { version as reactVersion, useSyncExternalStore } from 'react'
import { version as domVersion } from 'react-dom'
import { render, screen } from '@testing-library/react'
import { useSyncExternalStoreWithSelector } from 'use-sync-external-store/shim/with-selector'

// The same suite runs twice (vitest projects 'jsdom' and 'react18'); this pins which React each pass really uses.
describe('React version of this pass', () => {
  it('uses React 18 in the react18 project and React 19 otherwise, with a matching react-dom', () => {
    expect(domVersion).toBe(reactVersion)
    expect(reactVersion.split('.')[0]).toBe(process.env.LIVE_SHAPES_EXPECTED_REACT ?? '19')
  })

  it('renders through Testing Library and use-sync-external-store with the same React copy', () => {
    let value = 'a'
    const listeners = new Set<() => void>()
    const subscribe = (listener: () => void): (() => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
    function Probe() {
      const plain = useSyncExternalStore(subscribe, () => value)
      const selected = useSyncExternalStoreWithSelector(subscribe, () => value, undefined, (v) => v.toUpperCase())
      return <p>{`${plain}${selected}${reactVersion}`}</p>
    }
    render(<Probe />)
    expect(screen.getByText(`aA${reactVersion}`)).toBeTruthy()
  })
})
