import { defineConfig } from 'vitest/config'

// One project per environment. Core and server tests run in plain Node (no DOM globals, as in a server or worker);
// React tests run in jsdom. Integration suites share one PGlite/PostgreSQL per file (see test/server/README.md).
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // CI reads the JSON report to print its closing "N passed, N failed" line (scripts/ci-summary.mjs).
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest.json' }]] : ['default'],
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/core/**/*.test.ts', 'test/server/**/*.test.ts', 'test/testing/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'jsdom',
          environment: 'jsdom',
          include: ['test/react/**/*.test.{ts,tsx}', 'test/jsdom/**/*.test.{ts,tsx}'],
        },
      },
    ],
  },
})
