import { describe, expect, it } from 'vitest'
import { FetchError, MissingHeadersError, NetworkError, RetriesExhaustedError, ShapeRequestError } from '../../src/core/errors'
import { MAX_ON_ERROR_RETRIES, RetryPolicy } from '../../src/core/retryPolicy'

const now = Date.parse('2026-01-01T00:00:00Z')
const network = new NetworkError('http://x', 'down')
const badRequest = new ShapeRequestError({ url: 'http://x', body: '{"message":"Invalid request"}', headers: {} })

describe('RetryPolicy', () => {
  it('backs off retryable errors, honouring retry-after', () => {
    const policy = new RetryPolicy({}, () => 0.5)
    expect(policy.afterFailure(network, now)).toEqual({ kind: 'backoff', delayMs: 500 })
    const unavailable = new FetchError({ status: 503, url: 'http://x', body: '', headers: { 'retry-after': '10' } })
    expect(policy.afterFailure(unavailable, now)).toEqual({ kind: 'backoff', delayMs: 10_000 })
    expect(policy.afterFailure(network, now)).toEqual({ kind: 'backoff', delayMs: 2000 })
    policy.succeeded()
    expect(policy.afterFailure(network, now)).toEqual({ kind: 'backoff', delayMs: 500 })
  })

  it('turns exhausted retries into a fatal RetriesExhaustedError', () => {
    const policy = new RetryPolicy({ maxRetries: 1 }, () => 0)
    expect(policy.afterFailure(network, now).kind).toBe('backoff')
    const decision = policy.afterFailure(network, now)
    if (decision.kind !== 'fatal') throw new Error(`expected fatal, got ${decision.kind}`)
    expect(decision.error).toBeInstanceOf(RetriesExhaustedError)
    expect(decision.error.cause).toBe(network)
  })

  it('leaves non-retryable errors to onError, with growing jitter and a bound', () => {
    const policy = new RetryPolicy({}, () => 1)
    expect(policy.afterFailure(badRequest, now)).toEqual({ kind: 'fatal', error: badRequest })
    const delays = Array.from({ length: MAX_ON_ERROR_RETRIES }, () => policy.recoveryDelay(badRequest))
    expect(delays.slice(0, 4)).toEqual([1000, 2000, 4000, 8000])
    expect(delays.at(-1)).toBe(32_000)
    expect(policy.recoveryDelay(badRequest)).toBeUndefined()
    policy.succeeded()
    expect(policy.recoveryDelay(badRequest)).toBe(1000)
  })

  it('never retries MissingHeadersError', () => {
    const policy = new RetryPolicy({}, () => 0)
    expect(policy.recoveryDelay(new MissingHeadersError('http://x', ['electric-offset']))).toBeUndefined()
  })
})
