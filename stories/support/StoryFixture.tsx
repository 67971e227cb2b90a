/**
 * Mounts a `StoryFixture` for the components below: its client through `ShapeClientProvider`, the fixture itself
 * through `useStoryFixture()` (for the writer buttons).
 *
 * Invariants:
 * - Without a `fixture` prop the component creates one after mount and disposes it on unmount, in the same
 *   effect, so a StrictMode double mount or a story switch never reuses a disposed client. With a `fixture` prop the
 *   caller (a test) owns it and disposes it.
 * - Nothing renders below until the fixture exists, so every hook sees the story's own client, never the default.
 */
import { createContext, useContext, useEffect, useState } from 'react'
import type { ReactNode } from 'react'
import { ShapeClientProvider } from '../../src/index'
import { createStoryFixture } from './storyFixture'
import type { StoryFixture, StoryFixtureOptions } from './storyFixture'

const StoryFixtureContext = createContext<StoryFixture | undefined>(undefined)

/** The fixture of the enclosing `StoryFixtureProvider`; throws outside of one. */
export function useStoryFixture(): StoryFixture {
  const fixture = useContext(StoryFixtureContext)
  if (!fixture) throw new Error('useStoryFixture: no StoryFixtureProvider above this component')
  return fixture
}

/** Props of `StoryFixtureProvider`. */
export interface StoryFixtureProviderProps {
  /** A fixture the caller owns; otherwise one is created from `options`. */
  fixture?: StoryFixture
  options?: StoryFixtureOptions
  children?: ReactNode
}

/**
 * Gives the children a fresh in-page shape server and client.
 * @example
 * <StoryFixtureProvider><LiveItemList /></StoryFixtureProvider>
 */
export function StoryFixtureProvider({ fixture: given, options, children }: StoryFixtureProviderProps): ReactNode {
  const [owned, setOwned] = useState<StoryFixture | undefined>(undefined)
  useEffect(() => {
    if (given) return undefined
    const created = createStoryFixture(options)
    setOwned(created)
    return () => {
      setOwned(undefined)
      void created.dispose()
    }
    // The options of a story are fixed for its lifetime; a new story remounts the provider.
  }, [given])
  const fixture = given ?? owned
  if (!fixture) return <p data-testid="fixture-starting">Starting the in-page shape server…</p>
  return (
    <StoryFixtureContext.Provider value={fixture}>
      <ShapeClientProvider client={fixture.client}>{children}</ShapeClientProvider>
    </StoryFixtureContext.Provider>
  )
}
