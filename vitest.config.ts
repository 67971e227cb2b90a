import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The React 18 pass resolves React and every package that imports it from compat/react18 (installed with
// `npm ci --prefix compat/react18`), so hooks, use-sync-external-store and Testing Library share one React 18.
const react18 = (name: string): string => fileURLToPath(new URL(`./compat/react18/node_modules/${name}`, import.meta.url))
const react18Packages = ['react-dom', 'react', 'use-sync-external-store', '@testing-library/react', '@testing-library/dom']

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
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          globalSetup: ['test/server/support/globalSetup.ts'],
          include: ['test/*.test.ts', 'test/core/**/*.test.ts', 'test/server/**/*.test.ts', 'test/testing/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'jsdom',
          environment: 'jsdom',
          include: ['test/react/**/*.test.{ts,tsx}', 'test/jsdom/**/*.test.{ts,tsx}'],
          // Type tests of the public entries; a small tsconfig so tsc checks only them and what they import.
          typecheck: {
            enabled: true,
            include: ['test/react/**/*.test-d.{ts,tsx}', 'test/core/**/*.test-d.ts'],
            tsconfig: 'test/react/tsconfig.typecheck.json',
            ignoreSourceErrors: true,
          },
        },
      },
      {
        extends: true,
        resolve: {
          alias: react18Packages.map((name) => ({
            find: new RegExp(`^${name.replace('/', '\\/')}(?=$|/)`),
            replacement: react18(name),
          })),
        },
        test: {
          name: 'react18',
          environment: 'jsdom',
          env: { LIVE_SHAPES_EXPECTED_REACT: '18' },
          include: ['test/react/**/*.test.{ts,tsx}'],
        },
      },
    ],
  },
})
