import { describe, expect, it } from 'vitest'
import { realClock, sleep } from '../../src/core/clock'
import { ManualClock } from './support/manualClock'

describe('sleep', () => {
  it('resolves when the clock reaches the delay', async () => {
    const clock = new ManualClock()
    let done = false
    const pending = sleep(clock, 1000).then(() => (done = true))
    clock.advance(999)
    await Promise.resolve()
    expect(done).toBe(false)
    clock.advance(1)
    await pending
    expect(done).toBe(true)
    expect(clock.pendingTimers).toBe(0)
  })

  it('rejects at once on abort and clears its timer', async () => {
    const clock = new ManualClock()
    const controller = new AbortController()
    const pending = sleep(clock, 60_000, controller.signal)
    expect(clock.pendingTimers).toBe(1)
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    expect(clock.pendingTimers).toBe(0)
  })

  it('rejects without a timer when already aborted, resolves without one for 0 ms', async () => {
    const clock = new ManualClock()
    await expect(sleep(clock, 10, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' })
    await sleep(clock, 0)
    expect(clock.delays).toEqual([])
  })
})

describe('realClock', () => {
  it('never fires a timer longer than the platform holds (timeoutMs: Infinity waits), where the platform would fire it at once', async () => {
    const fired: string[] = []
    const forever = realClock.setTimeout(() => fired.push('Infinity'), Infinity)
    const tooLong = realClock.setTimeout(() => fired.push('2^31 ms'), 2 ** 31)
    await new Promise<void>((resolve) => realClock.setTimeout(resolve, 20))
    expect(fired).toEqual([])
    realClock.clearTimeout(forever)
    realClock.clearTimeout(tooLong)
  })
})
