/**
 * Scenario (e): browser bundle size, minified and gzipped, of our entries vs `@electric-sql/client` +
 * `@electric-sql/react`. Each side is bundled by esbuild exactly as an app bundler would see it (browser
 * conditions, minify, tree-shaking), with `react`/`react-dom` external on both sides. The main entries re-export
 * everything (`export *`): the full cost of the packages; the "typical app import" entries show what tree-shaking
 * leaves for an app that uses the hooks.
 */
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

/**
 * `@electric-sql/react` pins an exact `@electric-sql/client` (1.0.54 pins 1.5.25), so an app with the latest client
 * gets two copies. This plugin resolves every import of the client to the app's copy, the best case for them.
 */
function dedupeClient(root) {
  return {
    name: 'dedupe-electric-client',
    setup(build) {
      build.onResolve({ filter: /^@electric-sql\/client$/ }, (args) => {
        if (args.pluginData === 'dedupe') return undefined
        return build.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: 'dedupe' })
      })
    },
  }
}

async function measure(esbuild, contents, resolveDir, plugins = []) {
  const result = await esbuild.build({
    plugins,
    stdin: { contents, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
  })
  const code = result.outputFiles[0].contents
  const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {}
  const largest = Object.entries(inputs)
    .map(([file, info]) => ({ file: file.replace(/^.*?((?:src|node_modules)\/)/, '$1'), minBytes: info.bytesInOutput }))
    .sort((a, b) => b.minBytes - a.minBytes)
    .slice(0, 10)
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, largest }
}

/** Sizes in bytes, keyed by entry name; an entry that fails to build reports its error instead. */
export async function bundleSizes(root) {
  const esbuild = await import('esbuild')
  const entries = {
    'ours core (live-shapes/core)': `export * from ${JSON.stringify(join(root, 'src/core/index.ts'))}`,
    'ours core + React (live-shapes)': `export * from ${JSON.stringify(join(root, 'src/index.ts'))}`,
    'theirs client (@electric-sql/client)': `export * from '@electric-sql/client'`,
    'theirs client + React, as installed (two client copies)': `export * from '@electric-sql/client'\nexport * from '@electric-sql/react'`,
    'theirs client + React, deduplicated': `export * from '@electric-sql/client'\nexport * from '@electric-sql/react'`,
    'ours, typical app import (useShape, useShapeRow, ShapeClientProvider, ShapeClient)': `export { useShape, useShapeRow, ShapeClientProvider, ShapeClient } from ${JSON.stringify(join(root, 'src/index.ts'))}`,
    'theirs, typical app import (useShape), deduplicated': `export { useShape } from '@electric-sql/react'`,
  }
  const sizes = {}
  for (const [name, contents] of Object.entries(entries)) {
    try {
      sizes[name] = await measure(esbuild, contents, root, name.includes('deduplicated') ? [dedupeClient(root)] : [])
    } catch (error) {
      sizes[name] = { error: String(error.message ?? error).split('\n')[0] }
    }
  }
  return sizes
}
