import { defineConfig } from 'tsup'

// Browser entries (root, core, testing) must never pull in Node-only server code; the server entry is Node only.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'core/index': 'src/core/index.ts',
    'server/index': 'src/server/index.ts',
    'server/postgres': 'src/server/postgres.ts',
    'server/cli': 'src/server/cli.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
  splitting: true,
  external: ['react', 'react-dom', '@electric-sql/pglite', 'pg', 'pg-logical-replication', 'libpg-query'],
})
