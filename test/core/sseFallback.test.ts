import { describe, expect, it } from 'vitest'
import {
  initialSseFallback,
  onSseConnectionClosed,
  resetSseFallback,
  type SseFallbackState,
} from '../../src/core/sseFallback'

const state = (consecutiveShort: number, fallenBack = false, consecutiveSilent = 0): SseFallbackState => ({
  consecutiveShort,
  consecutiveSilent,
  fallenBack,
  reason: fallenBack ? 'fell back' : undefined,
})

describe('onSseConnectionClosed state-by-event table', () => {
  // random() = 0.5 so the delay is half the ceiling: a wrong ceiling shows as a wrong number.
  const half = () => 0.5
  it.each([
    // from,          durationMs, aborted, → consecutiveShort, fallenBack, delayMs
    [state(0), 10, false, 1, false, 100], // 1st short: ceiling 100·2^1 = 200
    [state(1), 999, false, 2, false, 200], // 2nd short: ceiling 400
    [state(2), 0, false, 3, true, 0], // 3rd short: fall back, no wait
    [state(0), 1000, false, 0, false, 0], // exactly 1 s is not short
    [state(2), 60_000, false, 0, false, 0], // a long connection resets the count
    [state(2), 1500, true, 0, false, 0], // a long one we aborted resets too
    [state(2), 10, true, 2, false, 0], // a short one we aborted changes nothing
    [state(0), 10, true, 0, false, 0],
    [state(3, true), 10, false, 3, true, 0], // already fallen back: stays so
    [state(3, true), 60_000, false, 3, true, 0],
  ])('%o closed after %i ms (aborted %s) → short %i, fallenBack %s, delay %i', (from, durationMs, aborted, short, fallenBack, delayMs) => {
    const decision = onSseConnectionClosed(from, { durationMs, aborted }, half)
    expect(decision.state.consecutiveShort).toBe(short)
    expect(decision.state.fallenBack).toBe(fallenBack)
    expect(decision.delayMs).toBe(delayMs)
  })
})

describe('sse fallback policy', () => {
  it('falls back after three short connections in a row, with a reason a developer can act on', () => {
    let current = initialSseFallback()
    const delays: number[] = []
    for (let i = 0; i < 3; i++) {
      const decision = onSseConnectionClosed(current, { durationMs: 50, aborted: false }, () => 0.99)
      current = decision.state
      delays.push(decision.delayMs)
    }
    expect(current.fallenBack).toBe(true)
    expect(current.reason).toMatch(/3 consecutive SSE responses closed within 1 s/)
    expect(current.reason).toMatch(/proxy/)
    expect(delays).toEqual([198, 396, 0])
  })

  it('does not fall back when a long connection interrupts the short ones', () => {
    let current = initialSseFallback()
    for (const durationMs of [50, 50, 5000, 50, 50]) {
      current = onSseConnectionClosed(current, { durationMs, aborted: false }, () => 0).state
    }
    expect(current).toEqual({ consecutiveShort: 2, consecutiveSilent: 0, fallenBack: false, reason: undefined })
  })

  it('keeps the delay within [0, ceiling) for any random value', () => {
    for (const r of [0, 0.25, 0.999999]) {
      const { delayMs } = onSseConnectionClosed(state(1), { durationMs: 1, aborted: false }, () => r)
      expect(delayMs).toBeGreaterThanOrEqual(0)
      expect(delayMs).toBeLessThan(400)
      expect(Number.isInteger(delayMs)).toBe(true)
    }
  })

  it('returns the same state object when nothing changed', () => {
    const from = initialSseFallback()
    expect(onSseConnectionClosed(from, { durationMs: 5000, aborted: false }, Math.random).state).toBe(from)
    const two = state(2)
    expect(onSseConnectionClosed(two, { durationMs: 5, aborted: true }, Math.random).state).toBe(two)
  })

  it('does not count a short connection that delivered changes, and starts the count again after it', () => {
    const two = state(2)
    expect(onSseConnectionClosed(two, { durationMs: 5, aborted: false, deliveredChanges: true }, () => 0.5)).toEqual({
      state: initialSseFallback(),
      delayMs: 0,
    })
    // Two empty short responses, a delivering one, two more empty ones: never three in a row, so no fallback.
    let run = initialSseFallback()
    for (const deliveredChanges of [false, false, true, false, false]) {
      run = onSseConnectionClosed(run, { durationMs: 5, aborted: false, deliveredChanges }, () => 0).state
    }
    expect(run.fallenBack).toBe(false)
    expect(run.consecutiveShort).toBe(2)
    let current = initialSseFallback()
    for (let i = 0; i < 10; i++) current = onSseConnectionClosed(current, { durationMs: 5, aborted: false, deliveredChanges: true }, () => 0).state
    expect(current).toBe(initialSseFallback())
    const empty = onSseConnectionClosed(two, { durationMs: 5, aborted: false, deliveredChanges: false }, () => 0)
    expect(empty.state.fallenBack).toBe(true)
  })

  it('falls back behind a buffering proxy with steady writes: silent connections at the head alternating with catch-ups that arrive whole', () => {
    // At the head the proxy holds everything back (silent past the heartbeat bound); the next request starts behind
    // the head, so the server ends it at once and the proxy delivers it whole. Changes would arrive only once per
    // heartbeat bound, forever, if the catch-ups cleared the count.
    let current = initialSseFallback()
    const silentCut = { durationMs: 45_000, aborted: false, silent: true }
    const catchUp = { durationMs: 30, aborted: false, deliveredChanges: true }
    for (const closed of [silentCut, catchUp, silentCut, catchUp]) {
      current = onSseConnectionClosed(current, closed, () => 0).state
      expect(current.fallenBack).toBe(false)
    }
    current = onSseConnectionClosed(current, silentCut, () => 0).state
    expect(current.fallenBack).toBe(true)
    expect(current.reason).toMatch(/silent past the heartbeat bound.*buffering/)
  })

  it('a connection that lasted without going silent ends a run of silent ones; a catch-up or one we aborted does not', () => {
    const silentCut = { durationMs: 45_000, aborted: false, silent: true }
    let current = onSseConnectionClosed(initialSseFallback(), silentCut, () => 0).state
    current = onSseConnectionClosed(current, silentCut, () => 0).state
    expect(current.consecutiveSilent).toBe(2)
    expect(onSseConnectionClosed(current, { durationMs: 5, aborted: true }, () => 0).state.consecutiveSilent).toBe(2)
    expect(onSseConnectionClosed(current, { durationMs: 5, aborted: false, deliveredChanges: true }, () => 0).state.consecutiveSilent).toBe(2)
    expect(onSseConnectionClosed(current, { durationMs: 30_000, aborted: false }, () => 0).state).toBe(initialSseFallback())
    // Silence after some changes is still silence.
    const afterChanges = onSseConnectionClosed(current, { durationMs: 50_000, aborted: false, silent: true, deliveredChanges: true }, () => 0)
    expect(afterChanges.state.fallenBack).toBe(true)
  })

  it('reset re-enables SSE after a fallback', () => {
    let current = state(3, true)
    current = resetSseFallback()
    expect(current).toEqual({ consecutiveShort: 0, consecutiveSilent: 0, fallenBack: false, reason: undefined })
    expect(onSseConnectionClosed(current, { durationMs: 5, aborted: false }, () => 0).state.fallenBack).toBe(false)
  })
})
