/**
 * Project-wide story annotations. The stories own their fixtures (server + client per story, see
 * `stories/support/StoryFixture.tsx`), so nothing here holds state.
 */
import type { Preview } from '@storybook/react-vite'

const preview: Preview = {
  parameters: {
    layout: 'padded',
    controls: { expanded: true },
  },
  tags: ['test'],
}

export default preview
