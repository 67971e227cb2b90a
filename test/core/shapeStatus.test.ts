import { describe, expect, it } from 'vitest'
import { NetworkError } from '../../src/core/errors'
import { deriveStatus, IDLE_STATUS, phaseOf } from '../../src/core/shapeStatus'
import type { StreamState } from '../../src/core/streamState'
import { initialStreamState, transition } from '../../src/core/streamState'

const info = { transport: 'long-poll' as const, fallbackReason: undefined }
const started = transition(initialStreamState(), { type: 'start' })
const live: StreamState = { ...started, phase: 'live', handle: 'h', offset: '0_inf', upToDateSinceReset: true, lastSyncedAt: 3 }
const error = new NetworkError('http://x', 'down')

describe('phaseOf', () => {
  it.each<[string, StreamState, string]>([
    ['stopped', initialStreamState(), 'idle'],
    ['initial', started, 'connecting'],
    ['syncing', { ...started, phase: 'syncing', handle: 'h', offset: '0_0' }, 'syncing'],
    ['live', live, 'live'],
    ['live catch-up after resume', { ...live, nextRequestCatchesUp: true }, 'syncing'],
    ['after a 409', { ...started, refetching: true }, 'refetching'],
    ['paused', { ...live, phase: 'paused' }, 'paused'],
    ['backoff', { ...live, phase: 'backoff', error, nextRetryAt: 9 }, 'retrying'],
    ['retrying', { ...live, phase: 'retrying', error }, 'retrying'],
    ['stopped by an error', { ...live, phase: 'error', error }, 'error'],
  ])('%s → %s', (_name, state, phase) => {
    expect(phaseOf(state)).toBe(phase)
  })
})

describe('deriveStatus', () => {
  it('returns the previous object when nothing changed', () => {
    const first = deriveStatus(IDLE_STATUS, live, info)
    expect(first).not.toBe(IDLE_STATUS)
    expect(deriveStatus(first, { ...live }, info)).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  it('carries position, error, retry time and transport facts', () => {
    const status = deriveStatus(IDLE_STATUS, { ...live, phase: 'backoff', error, nextRetryAt: 42, cursor: '20' }, { transport: 'sse', fallbackReason: 'proxy buffering', offline: true })
    expect(status).toEqual({
      phase: 'retrying',
      transport: 'sse',
      fallbackReason: 'proxy buffering',
      isUpToDate: true,
      lastSyncedAt: 3,
      error,
      nextRetryAt: 42,
      offline: true,
      handle: 'h',
      offset: '0_inf',
      cursor: '20',
    })
  })

  it('makes a new object when any field changes', () => {
    const first = deriveStatus(IDLE_STATUS, live, info)
    expect(deriveStatus(first, { ...live, offset: '1_0' }, info)).not.toBe(first)
    expect(deriveStatus(first, live, { transport: 'sse', fallbackReason: undefined })).not.toBe(first)
  })
})
