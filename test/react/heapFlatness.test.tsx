import { describe, it, expect, afterEach } from 'vitest'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import type { Shape } from '../../src/core/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'
import { fiftyShapes } from './support/fiftyShapes'
import { exposeGc, liveTargets, settledHeap } from './support/heapGauge'

const GRACE_MS = 3000
const CYCLES = 1000
const CHECKPOINT_EVERY = 100
const MiB = 1024 * 1024
/*
 * What a leak would add, measured by injecting one into `One` and running this test:
 * - every Shape pushed into a module array: +11.4 MiB per 100 cycles, ~3.5 KiB per Shape (its store of 3 rows,
 *   stream, status, options); ~30,000 Shapes are created after the baseline (50 per cycle, those kept through a grace
 *   period reused once), so ~100 MiB by the end;
 * - one closure per mount pushed into a module array, not even holding the Shape: ~110 B per mount, +4.8 MiB over the
 *   45,000 mounts after the baseline.
 * Without a leak the data heap (compiled code left out, see heapGauge.ts) rises by ~0.35 MiB over the run, <= 0.1 MiB
 * between checkpoints, the same in every run whatever the machine's load; a heap-snapshot diff (cycle 200 vs 1000)
 * shows only V8 optimization metadata there (deopt data, dependent-code lists), no object of ours, React's or jsdom's.
 * DRIFT_TOLERANCE sits 6x above that noise and 50x below a Shape leak: any per-mount leak of >= 47 B trips it.
 * TREND_TOLERANCE compares the last checkpoints with the middle ones, >= 200 cycles (10,000 mounts) apart: a Shape leak
 * adds ~23 MiB there, the closure leak above ~1.1 MiB: the shape of the curve is checked, not only its end.
 */
const DRIFT_TOLERANCE = 2 * MiB
const TREND_TOLERANCE = 1 * MiB

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

const inMiB = (bytes: number): string => (bytes / MiB).toFixed(2)

describe('heap flatness', () => {
  it('1,000 mount/unmount cycles of 50 shapes keep the heap flat and let every closed Shape be collected', async () => {
    const gc = exposeGc()
    harness = createHarness(makeItems(3))
    const h = harness
    // While set, `One` records a weak reference to the Shape it renders; the test never holds a strong one.
    let sampling: Map<number, WeakRef<Shape<Item>>> | undefined
    const { Many, syncedText } = fiftyShapes(h, (id, shape) => {
      if (sampling !== undefined && !sampling.has(id)) sampling.set(id, new WeakRef(shape))
    })
    const view = render(<Many on={false} />, { wrapper: h.wrapper })
    const mountSampled = (): Array<WeakRef<Shape<Item>>> => {
      sampling = new Map()
      view.rerender(<Many on />)
      const refs = [...sampling.values()]
      sampling = undefined
      return refs
    }
    const closeAll = async (): Promise<void> => {
      act(() => h.clock.advance(GRACE_MS))
      expect(h.client.size).toBe(0)
      await h.requests.idle()
    }

    // Shapes of a cycle whose grace period is hit (150: reused by 151, closed there), of a plain cycle (152), of a
    // cycle whose streams went live before unmounting (500) and of a late one (701).
    const sampledCycles = new Set([150, 152, 500, 701])
    const sampled: Array<WeakRef<Shape<Item>>> = []
    const checkpoints: Array<{ cycle: number; dataBytes: number }> = []
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      if (sampledCycles.has(cycle)) sampled.push(...mountSampled())
      else view.rerender(<Many on />)
      expect(h.client.size).toBe(50)
      if (cycle % 100 === 0) {
        // Now and then all 50 streams sync and go live, so unmounting aborts requests in flight.
        await waitFor(() => expect(screen.getByTestId('many').textContent).toBe(syncedText))
      }
      view.rerender(<Many on={false} />)
      // Every third cycle remounts within the grace period (streams kept), the others let them close.
      act(() => h.clock.advance(cycle % 3 === 0 ? GRACE_MS - 1 : GRACE_MS))
      if ((cycle + 1) % CHECKPOINT_EVERY === 0) {
        // Each checkpoint is taken in the same state: nothing mounted, registry empty, no request open.
        await closeAll()
        checkpoints.push({ cycle: cycle + 1, dataBytes: (await settledHeap(gc)).dataBytes })
      }
    }

    const trace = checkpoints.map((point) => `${point.cycle}: ${inMiB(point.dataBytes)} MiB`).join(', ')
    // The first 100 cycles warm up the JIT, React and jsdom; what comes after must not accumulate.
    const [baseline, ...later] = checkpoints
    expect(baseline?.cycle).toBe(100)
    expect(later).toHaveLength(9)
    const drift = Math.max(...later.map((point) => point.dataBytes)) - (baseline?.dataBytes ?? 0)
    expect.soft(drift, `largest heap drift from the baseline (${trace})`).toBeLessThan(DRIFT_TOLERANCE)
    const middle = checkpoints.filter((point) => point.cycle >= 400 && point.cycle <= 600).map((point) => point.dataBytes)
    const last = checkpoints.filter((point) => point.cycle >= 800).map((point) => point.dataBytes)
    expect(middle).toHaveLength(3)
    expect(last).toHaveLength(3)
    expect.soft(Math.min(...last) - Math.max(...middle), `heap trend, last vs middle checkpoints (${trace})`).toBeLessThan(
      TREND_TOLERANCE,
    )

    expect(sampled).toHaveLength(sampledCycles.size * 50)
    expect.soft(await liveTargets(gc, sampled), 'sampled Shapes still alive after they closed').toBe(0)

    // The control: the same measurement sees Shapes that are still mounted, then still in their grace period.
    const current = mountSampled()
    await waitFor(() => expect(screen.getByTestId('many').textContent).toBe(syncedText))
    expect(current).toHaveLength(50)
    expect(await liveTargets(gc, current)).toBe(50)
    view.rerender(<Many on={false} />)
    act(() => h.clock.advance(GRACE_MS - 1))
    expect(h.client.size).toBe(50)
    expect(await liveTargets(gc, current)).toBe(50)
    await closeAll()
    expect(h.clock.pending).toBe(0)
    expect(h.requests.open).toBe(0)
    expect(await liveTargets(gc, current)).toBe(0)
  }, 300_000)
})
