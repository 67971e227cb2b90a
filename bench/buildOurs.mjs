/**
 * Bundles our package for the bench from `src/` with esbuild (installed with tsup) into `bench/.build/ours.mjs`.
 *
 * Why not `dist/`: `tsup` cleans `dist/` and builds declarations, which races with other processes using `dist/`
 * and fails on any type error elsewhere; the bench needs the runtime code only. The bundle is what `dist/` holds
 * (same entries, same target), minus the declarations.
 *
 * The entry exposes the public package (`pkg`, i.e. `src/index.ts`) and, while the public client is still being
 * written, the core pieces it will be made of (`parts`), only those whose files exist.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const defaultRoot = join(here, '..')

const PARTS = [
  { file: 'src/core/shapeStream.ts', names: ['ShapeStream'] },
  { file: 'src/core/shapeStore.ts', names: ['ShapeStore'] },
  { file: 'src/core/parse.ts', names: ['createMessageParser'] },
  { file: 'src/core/shapeClient.ts', names: ['ShapeClient'] },
  { file: 'src/core/sseTransport.ts', names: ['*'] },
]

/**
 * Builds and returns the path of the bundle, or throws with esbuild's message. By hand, for A/B runs:
 * `node bench/buildOurs.mjs [SOURCE_ROOT] [NAME]` bundles SOURCE_ROOT/src (e.g. an older commit's `git archive`)
 * into `bench/.build/NAME.mjs`, which the adapter loads when `BENCH_OURS_BUNDLE=NAME`.
 */
export async function buildOurs(root = defaultRoot, name = 'ours') {
  const esbuild = await import('esbuild')
  const outDir = join(here, '.build')
  mkdirSync(outDir, { recursive: true })
  const lines = [`export * as pkg from ${JSON.stringify(join(root, 'src/index.ts'))}`]
  for (const part of PARTS) {
    if (!existsSync(join(root, part.file))) continue
    const alias = part.file.replace(/^.*\/(\w+)\.ts$/, '$1')
    lines.push(part.names[0] === '*'
      ? `export * as ${alias} from ${JSON.stringify(join(root, part.file))}`
      : `export { ${part.names.join(', ')} } from ${JSON.stringify(join(root, part.file))}`)
  }
  const entry = join(outDir, `${name}-entry.mjs`)
  writeFileSync(entry, `${lines.join('\n')}\n`)
  const outfile = join(outDir, `${name}.mjs`)
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    external: ['react', 'react-dom', 'react/*', 'use-sync-external-store', 'use-sync-external-store/*', '@microsoft/fetch-event-source'],
    logLevel: 'silent',
    sourcemap: 'linked',
  })
  return outfile
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildOurs(process.argv[2], process.argv[3]).then((file) => console.log(file), (error) => {
    console.error(error.message)
    process.exit(1)
  })
}
