/**
 * Scenario (e): browser bundle size, minified and gzipped, of our entries vs `@electric-sql/client` +
 * `@electric-sql/react`. Each side is bundled by esbuild exactly as an app bundler would see it (browser
 * conditions, minify, tree-shaking), with `react`/`react-dom` external on both sides. The main entries re-export
 * everything (`export *`): the full cost of the packages; the "typical app import" entries show what tree-shaking
 * leaves for an app that uses the hooks. Code splitting is on, as in an app bundler: "up front" is the entry chunk
 * plus the chunks it imports statically (each gzipped on its own, as served); "loaded later" is what is only reached
 * through `import()` (our SSE stack, loaded on the first SSE connection).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

/**
 * Bundles `contents` (an entry module's source) as an app bundler would and returns its up-front and lazy sizes.
 * Shared with `scripts/check-size.mjs`.
 */
export async function measure(esbuild, contents, resolveDir, plugins = []) {
  // Splitting needs an entry file on disk (not stdin); imports in it resolve from `resolveDir` as absolute paths.
  const dir = mkdtempSync(join(tmpdir(), 'live-shapes-size-'))
  const entry = join(dir, 'entry.js')
  writeFileSync(entry, contents)
  try {
    const result = await esbuild.build({
      plugins,
      entryPoints: [entry],
      absWorkingDir: dir,
      nodePaths: [join(resolveDir, 'node_modules')],
      bundle: true,
      minify: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outdir: join(dir, 'out'),
      write: false,
      external: ['react', 'react-dom', 'react/jsx-runtime'],
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      metafile: true,
    })
    const outputs = result.metafile.outputs
    const files = new Map(result.outputFiles.map((file) => [file.path.slice(dir.length + 1), file.contents]))
    const entryName = Object.keys(outputs).find((name) => outputs[name].entryPoint !== undefined)
    const upFront = new Set()
    const visit = (name) => {
      if (upFront.has(name)) return
      upFront.add(name)
      for (const imported of outputs[name].imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path)
    }
    visit(entryName)
    const sum = (names, size) => names.reduce((total, name) => total + size(files.get(name)), 0)
    const later = Object.keys(outputs).filter((name) => name.endsWith('.js') && !upFront.has(name))
    const minOf = (code) => code.length
    const gzipOf = (code) => gzipSync(code, { level: 9 }).length
    const inputs = {}
    for (const name of upFront) {
      for (const [file, info] of Object.entries(outputs[name].inputs)) inputs[file] = (inputs[file] ?? 0) + info.bytesInOutput
    }
    const largest = Object.entries(inputs)
      .map(([file, minBytes]) => ({ file: file.replace(/^.*?((?:src|node_modules)\/)/, '$1'), minBytes }))
      .sort((a, b) => b.minBytes - a.minBytes)
      .slice(0, 10)
    return {
      minBytes: sum([...upFront], minOf),
      gzipBytes: sum([...upFront], gzipOf),
      laterMinBytes: sum(later, minOf),
      laterGzipBytes: sum(later, gzipOf),
      largest,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
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
    'ours, useShape component (useShape, ShapeClientProvider)': `export { useShape, ShapeClientProvider } from ${JSON.stringify(join(root, 'src/index.ts'))}`,
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
