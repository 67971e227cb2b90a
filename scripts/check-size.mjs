/**
 * `npm test` size check: fails when a browser entry outgrows its budget (gzip -9 bytes, esbuild --minify with code
 * splitting, `react` external, as `bench/bundleSize.mjs` measures for `npm run bench`).
 *
 * Entries:
 * - `useShape component`: what a component importing `useShape` and `ShapeClientProvider` loads up front (chunks
 *   reached only through `import()`, such as the SSE stack and the persistence adapters, are loaded later and
 *   budgeted apart);
 * - `everything`: `export *` of the package's root entry (core and React), up front.
 *
 * Budgets sit just above the sizes measured when each was set (see bench/RESULTS.md "Bundle"): raise one only with
 * a line there saying what the bytes buy. `node scripts/check-size.mjs --json` prints the measured sizes.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure } from '../bench/bundleSize.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const main = JSON.stringify(join(root, 'src/index.ts'))

/** Budgets in gzip bytes: `upFront` for what loads with the entry, `later` for its lazy chunks together. */
const BUDGETS = {
  'useShape component': {
    contents: `export { useShape, ShapeClientProvider } from ${main}`,
    // Measured 21,117 up front and 3,169 later at the merge of persistence; 27,867 and 6,178 once optimistic writes,
    // request deadlines, connectivity and subset snapshots landed (2026-12-07; bench/RESULTS.md "Bundle"); 28,850 with
    // the option checks of the consumer audit (typed errors for options of the wrong kind); 29,393 with a shape
    // `where` written in application names encoded by the column mapper (API audit, as @electric-sql/client does);
    // 29,531 with clearPersisted searching a storage's own keys (an index two tabs rewrote at once loses nothing);
    // 29,659 with the React audit's fixes (a suspension that ends at the next failure, isPending inside actions,
    // placeholders kept within one client and across no disabled period, idle for a stream nobody holds); 31,319
    // after the second audit round (bench/RESULTS.md "Bundle": fetchClient and Electric's option names, forwarders
    // for inline function options, the server view of hydrated and seeded shapes, writes kept awake on a hidden page…).
    upFront: 31_600,
    // 6,390 later until the SSE fallback counted silent connections apart (6,478).
    later: 6_600,
  },
  everything: {
    contents: `export * from ${main}`,
    // Measured 27,054 up front and 861 later at the merge of persistence; 32,501 and 6,172 after the same merges;
    // 33,519 up front with the option checks of the consumer audit; 34,043 with the column mapper's where encoding;
    // 34,223 with clearPersisted searching the storage's keys; 34,489 with the React audit's fixes (above); 36,190
    // after the second audit round (above).
    upFront: 36_500,
    later: 6_600,
  },
}

const esbuild = await import('esbuild')
const failures = []
const report = {}
for (const [name, budget] of Object.entries(BUDGETS)) {
  const size = await measure(esbuild, budget.contents, root)
  report[name] = { upFrontGzip: size.gzipBytes, laterGzip: size.laterGzipBytes, upFrontMin: size.minBytes, largest: size.largest }
  if (size.gzipBytes > budget.upFront) failures.push(`${name}: ${size.gzipBytes} B gzip up front, budget ${budget.upFront} B`)
  if (size.laterGzipBytes > budget.later) failures.push(`${name}: ${size.laterGzipBytes} B gzip loaded later, budget ${budget.later} B`)
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2))
else for (const [name, size] of Object.entries(report)) console.log(`size: ${name}: ${size.upFrontGzip} B gzip up front (budget ${BUDGETS[name].upFront}), ${size.laterGzip} B later (budget ${BUDGETS[name].later})`)
if (failures.length > 0) {
  console.error(`Bundle over budget:\n  ${failures.join('\n  ')}`)
  process.exit(1)
}
