import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

const config: NextConfig = {
  // PGlite and libpg-query load WebAssembly from their own package directories at run time, so the server keeps
  // them as plain Node imports instead of bundling them. `live-shapes` itself stays bundled: Next then gives its
  // hooks the same React as the app (an external copy would resolve a second React).
  serverExternalPackages: ['@electric-sql/pglite', 'libpg-query'],
  // This directory is its own project (own lockfile), not part of the repository's root package.
  turbopack: { root: dirname(fileURLToPath(import.meta.url)) },
}

export default config
