/**
 * Builds the demo page (`demo/index.html` and what it imports, the package's React entry from `src/`) with Vite into
 * `outDir`, offline, from the devDependencies already installed.
 */
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const demoDir = dirname(fileURLToPath(import.meta.url))

/**
 * @param {string} outDir an absolute, gitignored directory; emptied first
 * @example
 * await buildDemoPage('/repo/.tmp/demo-page')
 */
export async function buildDemoPage(outDir) {
  // React's production build (and JSX compiled for it) whatever NODE_ENV the caller had (a test runner sets `test`):
  // the page's render counters count renders, not StrictMode's development double renders. Vite and the React
  // plugin both read NODE_ENV, so it is set for this process, which only serves the demo.
  process.env.NODE_ENV = 'production'
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')])
  await build({
    root: demoDir,
    configFile: false,
    logLevel: 'warn',
    plugins: [react()],
    mode: 'production',
    build: {
      outDir,
      emptyOutDir: true,
      reportCompressedSize: false,
      // PGlite boots in the same process meanwhile, which makes every plugin look slow: not worth a warning.
      rolldownOptions: { checks: { pluginTimings: false } },
    },
  })
}
