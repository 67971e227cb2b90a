/**
 * A real `gc()` and the size of the live heap after full collections, for tests that assert nothing accumulates.
 *
 * Rules:
 * - `gc` is V8's own: `--expose-gc` is set at run time and the function read from a fresh context, so neither
 *   the test config nor the worker's command line changes; a runtime that does not give it fails loudly.
 * - A reading collects several times with a macrotask between collections, so WeakRef targets (kept alive until
 *   the current job ends), FinalizationRegistry callbacks and work that a collection unblocks all settle first; the
 *   last collection runs right before the reading, so nothing allocated while settling is counted.
 * - `dataBytes` leaves out compiled code and bytecode: V8 keeps optimizing hot functions for the whole run
 *   (measured here: +0.6 MiB of code over 900 cycles of the React workload), which is the engine warming up, not
 *   data that the code under test keeps.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { getHeapCodeStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** A full, synchronous garbage collection. */
export type FullGc = () => void

/** The V8 heap after full collections. */
export interface HeapReading {
  /** Every live byte of the V8 heap. */
  readonly usedBytes: number
  /** Machine code, bytecode and their metadata. */
  readonly codeBytes: number
  /** `usedBytes` without `codeBytes`: the objects the program holds. */
  readonly dataBytes: number
}

/**
 * V8's `gc` in this worker.
 * @example
 * const gc = exposeGc()
 * const before = await settledHeap(gc)
 */
export function exposeGc(): FullGc {
  setFlagsFromString('--expose-gc')
  const gc: unknown = runInNewContext('gc')
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc() after --expose-gc: heap tests need V8 (Node)')
  return () => {
    gc()
  }
}

/** Collects until settled and reads the heap. */
export async function settledHeap(gc: FullGc, rounds = 4): Promise<HeapReading> {
  for (let round = 0; round < rounds; round++) {
    gc()
    await nextMacrotask()
  }
  gc()
  const usedBytes = getHeapStatistics().used_heap_size
  const code = getHeapCodeStatistics()
  const codeBytes = code.code_and_metadata_size + code.bytecode_and_metadata_size
  return { usedBytes, codeBytes, dataBytes: usedBytes - codeBytes }
}

/** Collects until settled, then counts the `refs` whose target is still alive. */
export async function liveTargets(gc: FullGc, refs: ReadonlyArray<WeakRef<object>>): Promise<number> {
  await settledHeap(gc)
  return refs.filter((ref) => ref.deref() !== undefined).length
}
