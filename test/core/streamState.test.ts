import { describe, expect, it } from 'vitest'
import { FetchError, NetworkError } from '../../src/core/errors'
import type { StreamEvent, StreamState } from '../../src/core/streamState'
import { initialStreamState, requestPosition, transition } from '../../src/core/streamState'
import type { Schema } from '../../src/core/protocol'

const schema: Schema = { id: { type: 'int4', pk_index: 0 } }
const otherSchema: Schema = { id: { type: 'int8', pk_index: 0 } }
const network = new NetworkError('http://x', new Error('down'))
const badRequest = new FetchError({ status: 401, url: 'http://x', body: '', headers: {} })

const started = transition(initialStreamState(), { type: 'start' })
const syncing: StreamState = { ...started, phase: 'syncing', handle: 'h1', offset: '0_0', schema }
const live: StreamState = { ...syncing, phase: 'live', offset: '0_inf', upToDateSinceReset: true, cursor: '100', lastSyncedAt: 5 }

function response(over: Partial<Extract<StreamEvent, { type: 'response' }>> = {}): StreamEvent {
  return { type: 'response', handle: 'h1', offset: '0_1', cursor: undefined, schema, upToDate: false, now: 10, ...over }
}

// state × event → the fields that must hold afterwards
const table: Array<{ name: string; from: StreamState; event: StreamEvent; expect: Partial<StreamState> }> = [
  { name: 'stopped + start', from: initialStreamState(), event: { type: 'start' }, expect: { phase: 'initial', offset: '-1', nextRequestCatchesUp: false } },
  { name: 'stopped ignores responses', from: initialStreamState(), event: response(), expect: { phase: 'stopped', handle: undefined } },
  { name: 'initial + first chunk', from: started, event: response({ offset: '0_0' }), expect: { phase: 'syncing', handle: 'h1', offset: '0_0', schema, upToDateSinceReset: false } },
  { name: 'initial + up-to-date', from: started, event: response({ upToDate: true, offset: '0_inf' }), expect: { phase: 'live', upToDateSinceReset: true, lastSyncedAt: 10 } },
  { name: 'syncing + up-to-date', from: syncing, event: response({ upToDate: true, offset: '0_inf' }), expect: { phase: 'live', offset: '0_inf', lastSyncedAt: 10 } },
  { name: 'schema first-write-wins per handle', from: syncing, event: response({ schema: otherSchema }), expect: { schema } },
  { name: 'live + live response keeps cursor moving', from: live, event: response({ offset: '120_4', cursor: '140', upToDate: true, now: 20 }), expect: { phase: 'live', offset: '120_4', cursor: '140', lastSyncedAt: 20 } },
  { name: 'live + chunk without up-to-date stays live', from: live, event: response({ offset: '120_4', cursor: '140' }), expect: { phase: 'live', upToDateSinceReset: true, lastSyncedAt: 5 } },
  {
    name: 'live + 409',
    from: live,
    event: { type: 'must-refetch', handle: 'h2', cacheBuster: 'cb' },
    expect: { phase: 'initial', handle: 'h2', offset: '-1', cursor: undefined, schema: undefined, upToDateSinceReset: false, refetching: true, expiredHandle: 'h1', cacheBuster: 'cb', lastSyncedAt: 5 },
  },
  { name: 'syncing + 409 without handle', from: syncing, event: { type: 'must-refetch', handle: undefined, cacheBuster: 'cb' }, expect: { handle: undefined, offset: '-1', expiredHandle: 'h1' } },
  {
    name: 'refetching + up-to-date clears refetching and the cache buster',
    from: { ...started, refetching: true, cacheBuster: 'cb', expiredHandle: 'h0' },
    event: response({ upToDate: true }),
    expect: { phase: 'live', refetching: false, cacheBuster: undefined, expiredHandle: 'h0' },
  },
  { name: 'live + retryable error', from: live, event: { type: 'retryable-error', error: network, nextRetryAt: 99 }, expect: { phase: 'backoff', error: network, nextRetryAt: 99, offset: '0_inf' } },
  { name: 'backoff + retry keeps the error until a response', from: { ...live, phase: 'backoff', error: network, nextRetryAt: 99 }, event: { type: 'retry' }, expect: { phase: 'retrying', error: network, nextRetryAt: undefined } },
  { name: 'retrying + response clears the error', from: { ...live, phase: 'retrying', error: network }, event: response({ upToDate: true }), expect: { phase: 'live', error: undefined } },
  { name: 'syncing + fatal error', from: syncing, event: { type: 'fatal-error', error: badRequest }, expect: { phase: 'error', error: badRequest, offset: '0_0', handle: 'h1' } },
  { name: 'error ignores responses', from: { ...syncing, phase: 'error', error: badRequest }, event: response(), expect: { phase: 'error', offset: '0_0' } },
  { name: 'error + retry (onError recovery) keeps position', from: { ...syncing, phase: 'error', error: badRequest }, event: { type: 'retry' }, expect: { phase: 'retrying', offset: '0_0', handle: 'h1' } },
  { name: 'live + pause', from: live, event: { type: 'pause' }, expect: { phase: 'paused', upToDateSinceReset: true } },
  { name: 'backoff + pause drops the retry time', from: { ...live, phase: 'backoff', error: network, nextRetryAt: 99 }, event: { type: 'pause' }, expect: { phase: 'paused', nextRetryAt: undefined } },
  { name: 'paused ignores responses', from: { ...live, phase: 'paused' }, event: response({ offset: '9_9' }), expect: { phase: 'paused', offset: '0_inf' } },
  { name: 'paused (live) + resume needs a catch-up', from: { ...live, phase: 'paused' }, event: { type: 'resume' }, expect: { phase: 'live', nextRequestCatchesUp: true, error: undefined } },
  { name: 'paused (syncing) + resume', from: { ...syncing, phase: 'paused' }, event: { type: 'resume' }, expect: { phase: 'syncing', nextRequestCatchesUp: false } },
  { name: 'catch-up + up-to-date ends the catch-up', from: { ...live, nextRequestCatchesUp: true }, event: response({ upToDate: true }), expect: { phase: 'live', nextRequestCatchesUp: false } },
  { name: 'catch-up + chunk keeps catching up', from: { ...live, nextRequestCatchesUp: true }, event: response(), expect: { nextRequestCatchesUp: true } },
  { name: 'any + stop', from: live, event: { type: 'stop' }, expect: { phase: 'stopped', offset: '0_inf', handle: 'h1' } },
  { name: 'stopped (was live) + start resumes with a catch-up', from: { ...live, phase: 'stopped' }, event: { type: 'start' }, expect: { phase: 'live', nextRequestCatchesUp: true } },
]

describe('transition', () => {
  it.each(table)('$name', ({ from, event, expect: expected }) => {
    const frozen = Object.freeze({ ...from })
    const next = transition(frozen, event)
    expect(next).toMatchObject(expected as Record<string, unknown>)
  })

  it('returns the same object when an event does not apply', () => {
    expect(transition(live, { type: 'resume' })).toBe(live)
    expect(transition(started, { type: 'start' })).toBe(started)
    const paused = transition(live, { type: 'pause' })
    expect(transition(paused, { type: 'pause' })).toBe(paused)
  })

  it('never mutates its input', () => {
    const frozen = Object.freeze({ ...live })
    for (const { event } of table) expect(() => transition(frozen, event)).not.toThrow()
    expect(frozen.offset).toBe('0_inf')
  })
})

describe('requestPosition', () => {
  it('is non-live before the first up-to-date', () => {
    expect(requestPosition(started)).toEqual({ offset: '-1', handle: undefined, live: false, cursor: undefined, cacheBuster: undefined, expiredHandle: undefined })
    expect(requestPosition(syncing)).toMatchObject({ offset: '0_0', handle: 'h1', live: false })
  })
  it('is live with the cursor after an up-to-date', () => {
    expect(requestPosition(live)).toMatchObject({ offset: '0_inf', handle: 'h1', live: true, cursor: '100' })
  })
  it('is non-live for a catch-up after resume', () => {
    const resumed = transition(transition(live, { type: 'pause' }), { type: 'resume' })
    expect(requestPosition(resumed)).toMatchObject({ live: false, cursor: undefined, offset: '0_inf' })
  })
  it('carries the cache buster and the expired handle after a 409', () => {
    const reset = transition(live, { type: 'must-refetch', handle: 'h2', cacheBuster: '1-abc' })
    expect(requestPosition(reset)).toEqual({ offset: '-1', handle: 'h2', live: false, cursor: undefined, cacheBuster: '1-abc', expiredHandle: 'h1' })
  })
})
