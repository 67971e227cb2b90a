/**
 * What one `Map.set` costs when the Map grows: `node bench/mapGrowth.mjs [--rounds N]`. A store's Map of shape keys
 * is filled to 2^20 + 1 entries (keys hashed beforehand, as a sync's keys are by then) and the `set` calls at the
 * sizes where the table grows are timed: V8 doubles a Map's table when it is full, copying every
 * entry in that one call, so a 1M-row shape has one call that copies 524,288 entries. Least of the rounds per size,
 * for the sizes where the table grows (powers of two from 1,024).
 */
const args = process.argv.slice(2)
const rounds = Number(args[args.indexOf('--rounds') + 1] || 3)
const n = 2 ** 20 + 1
const keys = Array.from({ length: n }, (_, i) => `"public"."t0_0000"/"${i}"`)
const row = {}
const warm = new Map()
for (const key of keys) warm.set(key, row)
const slowest = new Map()
for (let round = 0; round < rounds; round++) {
  const map = new Map()
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    map.set(keys[i], row)
    const ms = performance.now() - start
    if (i >= 1024 && (i & (i - 1)) === 0) slowest.set(i, Math.min(slowest.get(i) ?? Infinity, ms))
  }
}
console.log(`load ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`)
for (const [size, ms] of [...slowest].sort((a, b) => a[0] - b[0])) console.log(`set at size ${size.toLocaleString('en-US')}: ${ms.toFixed(1)} ms`)
