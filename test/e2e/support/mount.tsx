/**
 * Renders into the real page of Vitest's browser runner with React's own root (no act environment: updates arrive
 * from the live stream, as in an app), and owns the fixtures the tests create.
 *
 * Invariant:
 * - `cleanup()` unmounts every root first (hooks release their shapes), then disposes every fixture (client,
 *   then server), so no request or timer outlives its test.
 */
import { createRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import type { ReactNode } from 'react'
import { createStoryFixture } from '../../../stories/support/storyFixture'
import type { StoryFixture, StoryFixtureOptions } from '../../../stories/support/storyFixture'
import { StoryFixtureProvider } from '../../../stories/support/StoryFixture'

/** What a test mounted, to clean up after it. */
export interface BrowserHarness {
  /** A fresh fixture this harness disposes. */
  fixture(options?: StoryFixtureOptions): StoryFixture
  /** Mounts `children` under a `StoryFixtureProvider` for `fixture`. */
  mount(fixture: StoryFixture, children: ReactNode): Root
  cleanup(): Promise<void>
}

/**
 * A harness for one test file.
 * @example
 * const harness = createBrowserHarness()
 * afterEach(() => harness.cleanup())
 */
export function createBrowserHarness(): BrowserHarness {
  const roots: { root: Root; container: HTMLElement }[] = []
  const fixtures: StoryFixture[] = []
  return {
    fixture(options) {
      const fixture = createStoryFixture(options)
      fixtures.push(fixture)
      return fixture
    },
    mount(fixture, children) {
      const container = document.createElement('div')
      document.body.append(container)
      const root = createRoot(container)
      root.render(<StoryFixtureProvider fixture={fixture}>{children}</StoryFixtureProvider>)
      roots.push({ root, container })
      return root
    },
    async cleanup() {
      for (const { root, container } of roots.splice(0)) {
        root.unmount()
        container.remove()
      }
      await Promise.all(fixtures.splice(0).map((fixture) => fixture.dispose()))
    },
  }
}
