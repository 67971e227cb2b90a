import { describe, expect, it, vi } from 'vitest'
import { NetworkError } from '../../src/core/errors'
import { withLiveDeadline } from '../../src/core/liveDeadline'
import { ManualClock } from './support/manualClock'

const url = 'http://x/v1/shape?live=true'

/** A request that settles only when told to, or rejects when its signal aborts (as fetch does). */
function pendingRequest() {
  let resolve!: (value: string) => void
  let seen: AbortSignal | undefined
  const run = (signal: AbortSignal) =>
    new Promise<string>((res, reject) => {
      seen = signal
      resolve = res
      if (signal.aborted) reject(signal.reason)
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  return { run, resolve: (value: string) => resolve(value), signal: () => seen }
}

describe('withLiveDeadline', () => {
  it('turns a request unanswered past the deadline into a retryable NetworkError', async () => {
    const clock = new ManualClock()
    const request = pendingRequest()
    const outcome = withLiveDeadline(clock, 45_000, url, new AbortController().signal, request.run)
    clock.advance(44_999)
    expect(request.signal()?.aborted).toBe(false)
    clock.advance(1)
    const error = await outcome.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).retryable).toBe(true)
    expect(String((error as NetworkError).cause)).toContain('within 45000 ms')
    expect(clock.pendingTimers).toBe(0)
  })

  it('passes an answer through and clears its timer', async () => {
    const clock = new ManualClock()
    const request = pendingRequest()
    const outcome = withLiveDeadline(clock, 1_000, url, new AbortController().signal, request.run)
    expect(clock.pendingTimers).toBe(1)
    request.resolve('answer')
    await expect(outcome).resolves.toBe('answer')
    expect(clock.pendingTimers).toBe(0)
  })

  it("forwards the caller's abort as it is, clearing the timer at once", async () => {
    const clock = new ManualClock()
    const caller = new AbortController()
    const request = pendingRequest()
    const outcome = withLiveDeadline(clock, 1_000, url, caller.signal, request.run)
    const reason = new Error('stopped')
    caller.abort(reason)
    expect(clock.pendingTimers).toBe(0)
    await expect(outcome).rejects.toBe(reason)
  })

  it('runs an already aborted caller signal as aborted', async () => {
    const clock = new ManualClock()
    const caller = new AbortController()
    caller.abort(new Error('gone'))
    const request = pendingRequest()
    await expect(withLiveDeadline(clock, 1_000, url, caller.signal, request.run)).rejects.toThrow('gone')
    expect(request.signal()?.aborted).toBe(true)
    expect(clock.pendingTimers).toBe(0)
  })

  it("removes its abort listener from the caller's signal on every path", async () => {
    for (const settle of ['answer', 'deadline', 'abort'] as const) {
      const clock = new ManualClock()
      const caller = new AbortController()
      const remove = vi.spyOn(caller.signal, 'removeEventListener')
      const request = pendingRequest()
      const outcome = withLiveDeadline(clock, 1_000, url, caller.signal, request.run).catch(() => undefined)
      if (settle === 'answer') request.resolve('ok')
      else if (settle === 'deadline') clock.advance(1_000)
      else caller.abort(new Error('stop'))
      await outcome
      expect(remove).toHaveBeenCalledWith('abort', expect.any(Function))
      expect(clock.pendingTimers).toBe(0)
    }
  })

  it("a caller's abort after the deadline passed is reported as the abort, not as the deadline", async () => {
    const clock = new ManualClock()
    const caller = new AbortController()
    let rejectLater!: (error: unknown) => void
    // A request that ignores its signal for a while, then fails.
    const outcome = withLiveDeadline(clock, 1_000, url, caller.signal, () => new Promise<string>((_resolve, reject) => (rejectLater = reject)))
    clock.advance(1_000)
    const reason = new Error('stopped')
    caller.abort(reason)
    rejectLater(reason)
    await expect(outcome).rejects.toBe(reason)
  })

  it('lets a failure before the deadline through unchanged', async () => {
    const clock = new ManualClock()
    const failure = new TypeError('socket hang up')
    await expect(withLiveDeadline(clock, 1_000, url, new AbortController().signal, () => Promise.reject(failure))).rejects.toBe(failure)
    expect(clock.pendingTimers).toBe(0)
  })
})
