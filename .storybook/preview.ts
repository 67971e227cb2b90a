/**
 * Project-wide story annotations: the demo page's stylesheet (one small file, system fonts) for every story, autodocs
 * for every component, and the sidebar order: the live list first (Storybook opens on it), then the introduction.
 * The stories own their fixtures (server + client per story, see `stories/support/StoryFixture.tsx`), so nothing here
 * holds state.
 */
import type { Preview } from '@storybook/react-vite'
import '../demo/styles.css'

const preview: Preview = {
  parameters: {
    layout: 'padded',
    controls: { expanded: true },
    options: {
      storySort: {
        order: ['Live shapes', ['Live list', 'Introduction', 'Per-row renders', 'Status badge', 'Server rendering', 'Suspense', '*', 'Error']],
      },
    },
  },
  tags: ['test', 'autodocs'],
}

export default preview
