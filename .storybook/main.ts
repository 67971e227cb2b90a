/**
 * Storybook for live-shapes: stories under `stories/`, each fed by the in-process test shape server running in the
 * page (memory source + the real handler + an in-process `fetch`), so no server process is needed to browse or test.
 * `@storybook/addon-vitest` runs every story (and its play function) as a test in Chromium: see
 * `vitest.browser.config.ts`.
 */
import type { StorybookConfig } from '@storybook/react-vite'

const config: StorybookConfig = {
  framework: { name: '@storybook/react-vite', options: {} },
  stories: ['../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-vitest'],
  core: { disableTelemetry: true },
}

export default config
