/**
 * Measurement helpers shared by the scenarios: a heap sampler, forced GC and a `fetch` that samples the heap
 * around every request.
 *
 * Rules:
 * - Peak heap is the largest `used_heap_size` seen by a 1 ms sampler and at every fetch boundary; garbage not
 *   yet collected counts, because the process really held it.
 * - Retained heap is measured after two full GCs, against a baseline taken the same way before the client
 *   existed (modules already loaded), so module code is not charged per row.
 */
import v8 from 'node:v8'

export function heapUsed() {
  return v8.getHeapStatistics().used_heap_size
}

/** Two full GCs (needs `--expose-gc`). */
export function fullGc() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
  globalThis.gc()
  globalThis.gc()
}

/** MB used per V8 heap space (only spaces in use), e.g. `{ new_space: 14.2, old_space: 33.1, … }`. */
export function heapSpacesMB() {
  const spaces = {}
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_used_size > 0) spaces[space.space_name] = Math.round((space.space_used_size / 2 ** 20) * 10) / 10
  }
  return spaces
}

/**
 * Samples the heap every 1 ms and at every `sample()` call: the peak is the largest `used_heap_size` seen. With
 * `spaces`, it also records the heap's spaces at the peak (`peakSpaces()`), which costs a little more per new peak.
 */
export function startHeapSampler({ spaces = false } = {}) {
  let peak = heapUsed()
  let atPeak
  // Longest main-thread block: the largest gap between two ticks of the 1 ms timer, minus its period (a timer
  // cannot fire while a task runs, so a gap is a task, or several back to back without an idle moment). On a loaded
  // machine a gap also holds time the process was not scheduled at all, so the CPU time the process used during
  // each gap is kept too (it includes V8's helper threads: an upper bound of the main thread's share).
  let lastTick = performance.now()
  let lastCpu = process.cpuUsage()
  let longestGap = 0
  let longestCpu = 0
  const tick = () => {
    const now = performance.now()
    const cpu = process.cpuUsage()
    const cpuMs = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000
    if (now - lastTick > longestGap) longestGap = now - lastTick
    if (cpuMs > longestCpu) longestCpu = cpuMs
    lastTick = now
    lastCpu = cpu
    sample()
  }
  const sample = () => {
    const used = heapUsed()
    if (used > peak) {
      peak = used
      if (spaces) atPeak = heapSpacesMB()
    }
  }
  const timer = setInterval(tick, 1)
  return {
    sample,
    /** The longest task seen so far (ms), as the longest gap between ticks less the 1 ms period. */
    longestTaskMs: () => Math.max(0, longestGap - 1),
    /** The most CPU time the process used between two ticks (ms). */
    longestTaskCpuMs: () => longestCpu,
    stop() {
      clearInterval(timer)
      sample()
      return peak
    },
    peakSpaces: () => atPeak,
  }
}

/** A `fetch` that calls `onBoundary` when a request starts and when its response arrives. */
export function probedFetch(onBoundary, log) {
  return async (input, init) => {
    onBoundary()
    const response = await fetch(input, init)
    onBoundary()
    if (log) log.push({ url: String(input), status: response.status, at: performance.now() })
    return response
  }
}

export async function prepareTable(url, table, rows) {
  const response = await fetch(`${url}/_bench/prepare?table=${table}&rows=${rows}`, { method: 'POST' })
  if (!response.ok) throw new Error(`prepare failed: ${response.status}`)
  return response.json()
}

export async function dropTable(url, table) {
  await fetch(`${url}/_bench/drop?table=${table}`, { method: 'POST' })
}

export function keyOf(table, id) {
  return `"public"."${table}"/"${id}"`
}
