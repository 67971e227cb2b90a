/**
 * Browser-mode runs (`vitest run -c vitest.browser.config.ts`), separate from the Node/jsdom config because they need
 * a real Chromium: Debian's `/usr/bin/chromium` driven by playwright-core (never a downloaded browser).
 *
 * Projects:
 * - `storybook`: every story under `stories/` rendered and its play function run, via `@storybook/addon-vitest`.
 * - `e2e`: `test/e2e/**` tests that render the story components with a fixture they own and write to it directly.
 */
import { fileURLToPath } from 'node:url'
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin'
import { playwright } from '@vitest/browser-playwright'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'
import type { BrowserProviderOption } from 'vitest/node'

const chromium: BrowserProviderOption = playwright({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  },
})

// A fresh object per project: Vitest writes the resolved instance names into it.
function browser() {
  return {
    enabled: true,
    headless: true,
    provider: chromium,
    instances: [{ browser: 'chromium' as const }],
    screenshotFailures: false,
  }
}

export default defineConfig({
  // Pre-bundled up front: found only when the SSE runner first runs, it would otherwise re-optimize mid-run.
  optimizeDeps: { include: ['@microsoft/fetch-event-source/lib/cjs/parse.js'] },
  test: {
    testTimeout: 20_000,
    // CI sums this report with the Node/jsdom one for its closing line (scripts/ci-summary.mjs).
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest-browser.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        plugins: [storybookTest({ configDir: fileURLToPath(new URL('./.storybook', import.meta.url)) })],
        test: { name: 'storybook', browser: browser() },
      },
      {
        extends: true,
        plugins: [react()],
        test: { name: 'e2e', include: ['test/e2e/**/*.test.{ts,tsx}'], browser: browser() },
      },
    ],
  },
})
