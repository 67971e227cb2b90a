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
  const sample = () => {
    const used = heapUsed()
    if (used > peak) {
      peak = used
      if (spaces) atPeak = heapSpacesMB()
    }
  }
  const timer = setInterval(sample, 1)
  return {
    sample,
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
