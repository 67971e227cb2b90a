/**
 * Scenario (a): initial sync of `rows` rows to the first up-to-date, with peak heap and retained bytes per row.
 * The timer covers creating the client, every snapshot request, parsing and materializing, up to the promise
 * that says "up to date" resolving.
 */
import { dropTable, fullGc, heapSpacesMB, heapUsed, keyOf, prepareTable, probedFetch, startHeapSampler } from '../probe.mjs'

/** A sampler that samples nothing: `BENCH_SAMPLER=0`. */
function idleSampler() {
  return { sample() {}, longestTaskMs: () => NaN, longestTaskCpuMs: () => NaN, stop: () => heapUsed(), peakSpaces: () => undefined }
}

export async function initialSync({ adapter, url, rows, table }) {
  const info = await prepareTable(url, table, rows)
  fullGc()
  const baseline = heapUsed()
  const rssBefore = process.resourceUsage().maxRSS
  // BENCH_HEAP_SPACES=1: also report the heap's spaces at the peak and after the full GC (where a peak comes from).
  const withSpaces = process.env.BENCH_HEAP_SPACES === '1'
  // BENCH_SAMPLER=0: no 1 ms sampler (no peak heap or longest task), to see what the sampler's ticks cost the time.
  const sampler = process.env.BENCH_SAMPLER === '0' ? idleSampler() : startHeapSampler({ spaces: withSpaces })
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const shape = await adapter.openShape({ url, table, fetch: probedFetch(sampler.sample) })
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  const longestTaskMs = sampler.longestTaskMs()
  const longestTaskCpuMs = sampler.longestTaskCpuMs()
  const peak = sampler.stop()
  const maxRssKb = process.resourceUsage().maxRSS
  if (shape.size() !== rows) throw new Error(`${adapter.name}: ${shape.size()} rows after sync, expected ${rows}`)
  const probe = shape.getRow(keyOf(table, rows))
  if (typeof probe?.id !== 'bigint' || typeof probe?.payload !== 'object' || typeof probe?.done !== 'boolean') {
    throw new Error(`${adapter.name}: row ${rows} not parsed per schema: ${JSON.stringify(probe, (k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`)
  }
  fullGc()
  const retained = heapUsed() - baseline
  const result = {
    ms,
    // Process CPU time over the same window (V8's GC helper threads included): steadier than wall time on a
    // loaded machine, where wall time also holds time the process was not scheduled.
    cpuMs: (cpu.user + cpu.system) / 1000,
    longestTaskMs,
    longestTaskCpuMs,
    rowsPerSec: rows / (ms / 1000),
    peakHeapMB: (peak - baseline) / 2 ** 20,
    retainedMB: retained / 2 ** 20,
    retainedBytesPerRow: retained / rows,
    peakOverRetained: (peak - baseline) / retained,
    rssGrowthMB: (maxRssKb - rssBefore) / 1024,
    ...(withSpaces ? { peakSpacesMB: sampler.peakSpaces(), retainedSpacesMB: heapSpacesMB() } : {}),
    snapshotMB: info.snapshotBytes / 2 ** 20,
    chunks: info.chunks,
  }
  shape.close()
  await dropTable(url, table)
  return result
}
