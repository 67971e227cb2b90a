/**
 * Storybook for live-shapes: an introduction (`stories/Introduction.mdx`), autodocs from the components' JSDoc, and
 * stories under `stories/`, each fed by the in-process test shape server running in the
 * page (memory source + the real handler + an in-process `fetch`), so no server process is needed to browse or test.
 * `@storybook/addon-vitest` runs every story (and its play function) as a test in Chromium: see
 * `vitest.browser.config.ts`.
 *
 * Invariant:
 * - libpg-query's WASM is served where the library looks for it in a browser. The in-page server parses `where`
 *   clauses with libpg-query, whose Emscripten loader, run as an ES module, has no script URL
 *   (`document.currentScript` is null for modules) and takes no `locateFile` from its caller, so it fetches
 *   `libpg-query.wasm` relative to the page: `/libpg-query.wasm` in Storybook, a sub-path in Vitest's browser runner.
 *   Dev servers answer any path ending in `/libpg-query.wasm`; builds emit the file next to `iframe.html`. Without
 *   this, a story with a `where` gets a 500 instead of the server's real answer. (Kept in this file: Storybook loads
 *   `main.ts` with Node, where extensionless relative imports are not supported.)
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { StorybookConfig } from '@storybook/react-vite'
import type { Plugin } from 'vite'

const WASM_NAME = 'libpg-query.wasm'

function libpgQueryWasm(): Plugin {
  const file = createRequire(import.meta.url).resolve(`libpg-query/wasm/${WASM_NAME}`)
  return {
    name: 'live-shapes:libpg-query-wasm',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = (request.url ?? '').split('?')[0] ?? ''
        if (!path.endsWith(`/${WASM_NAME}`)) return next()
        response.setHeader('content-type', 'application/wasm')
        response.end(readFileSync(file))
      })
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: WASM_NAME, source: readFileSync(file) })
    },
  }
}

const config: StorybookConfig = {
  framework: { name: '@storybook/react-vite', options: {} },
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs', '@storybook/addon-vitest'],
  core: { disableTelemetry: true },
  // `react-docgen` (not the TypeScript one, which was most of the build time) reads the components' JSDoc for autodocs.
  typescript: { reactDocgen: 'react-docgen' },
  viteFinal: (viteConfig) => ({ ...viteConfig, plugins: [...(viteConfig.plugins ?? []), libpgQueryWasm()] }),
}

export default config
