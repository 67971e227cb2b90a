/**
 * `@electric-sql/client`'s options given to `client.shape` (src/core/electricOptions.ts): `fetchClient` carries the
 * shape's requests, `backoffOptions` tunes its retries, positions are refused, and the options with no effect here
 * are named once per client.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidOptionsError } from '../../src/core/errors'
import type { FetchLike } from '../../src/core/fetchLike'
import type { ShapeOptions } from '../../src/core/shapeOptions'
import { ShapeClient } from '../../src/core/shapeClient'
import { catchUpResponse, FakeShapeServer, HANDLE, serverErrorResponse, snapshotRow } from './support/fakeShapeServer'
import { ManualClock } from './support/manualClock'
import { statusWhere } from './support/streamHarness'

const url = 'http://localhost:3000/v1/shape'

function setup() {
  const server = new FakeShapeServer()
  const clientServer = new FakeShapeServer()
  const clock = new ManualClock()
  const client = new ShapeClient({ fetch: clientServer.fetch, clock, random: () => 0.5, visibility: null, connectivity: null })
  return { server, clientServer, clock, client }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('fetchClient', () => {
  it("carries the shape's requests instead of the client's fetch, and counts in its identity by reference", async () => {
    const { server, clientServer, client } = setup()
    const seen: string[] = []
    const fetchClient: FetchLike = (input, init) => {
      const headers = new Headers(init.headers)
      headers.set('authorization', 'Bearer t')
      seen.push(new URL(input).searchParams.get('offset') ?? '')
      return server.fetch(input, { ...init, headers })
    }
    const options: ShapeOptions = { url, params: { table: 'items' }, fetchClient }
    const shape = client.shape(options)
    expect(client.shape({ ...options })).toBe(shape)
    expect(client.shape({ url, params: { table: 'items' }, fetchClient: (input, init) => server.fetch(input, init) })).not.toBe(shape)
    expect(client.shape({ url, params: { table: 'items' } })).not.toBe(shape)
    const release = shape.retain()
    const request = await server.nextRequest()
    expect(request.headers['authorization']).toBe('Bearer t')
    request.respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [snapshotRow(1, 'a')] }))
    await shape.whenUpToDate()
    expect(shape.getSnapshot().data).toEqual([{ id: 1, title: 'a' }])
    expect(seen[0]).toBe('-1')
    expect(clientServer.requests).toHaveLength(0)
    release()
    client.dispose()
  })

  it("carries the shape's subset snapshots and client.fetchSnapshot", async () => {
    const { server, clientServer, client } = setup()
    const subsets: string[] = []
    const fetchClient: FetchLike = (input, init) => {
      const limit = new URL(input).searchParams.get('subset__limit')
      if (limit === null) return server.fetch(input, init)
      subsets.push(limit)
      return Promise.reject(new TypeError('offline'))
    }
    const options: ShapeOptions = { url, params: { table: 'items' }, log: 'changes_only', fetchClient }
    await expect(client.fetchSnapshot(options, { orderBy: 'id', limit: 1 })).rejects.toThrow()
    const shape = client.shape(options)
    const release = shape.retain()
    ;(await server.nextRequest()).respond(catchUpResponse({ requestOffset: '-1', offset: '0_inf', lsn: '1', messages: [] }))
    await shape.whenUpToDate()
    await expect(shape.requestSnapshot({ orderBy: 'id', limit: 2 })).rejects.toThrow()
    expect(subsets).toEqual(['1', '2'])
    expect(clientServer.requests).toHaveLength(0)
    release()
    client.dispose()
  })

  it('must be a function', () => {
    const { client } = setup()
    expect(() => client.shape({ url, params: { table: 'items' }, fetchClient: 'fetch' as never })).toThrow(/"fetchClient" must be a function/)
  })
})

describe('backoffOptions', () => {
  const firstWait = async (extra: Partial<ShapeOptions>): Promise<number> => {
    const { client, clientServer, clock } = setup()
    const shape = client.shape({ url, params: { table: 'items' }, ...extra })
    const release = shape.retain()
    ;(await clientServer.nextRequest()).respond(serverErrorResponse(503))
    const status = await statusWhere(shape, (s) => s.nextRetryAt !== undefined || s.phase === 'error')
    release()
    client.dispose()
    return status.phase === 'error' ? -1 : status.nextRetryAt! - clock.now()
  }

  it('is read as backoff (initialDelay, maxDelay, multiplier, maxRetries); a field set in backoff wins', async () => {
    // random() is 0.5: the first wait is half the initial delay.
    expect(await firstWait({})).toBe(500)
    expect(await firstWait({ backoffOptions: { initialDelay: 8000, maxDelay: 60_000, multiplier: 2 } })).toBe(4000)
    expect(await firstWait({ backoffOptions: { initialDelay: 8000, maxDelay: 2000, multiplier: 2 } })).toBe(1000)
    expect(await firstWait({ backoffOptions: { initialDelay: 8000, maxDelay: 60_000, multiplier: 2 }, backoff: { initialDelayMs: 3000 } })).toBe(1500)
    expect(await firstWait({ backoffOptions: { initialDelay: 100, maxDelay: 100, multiplier: 1, maxRetries: 0 } })).toBe(-1)
  })
})

describe('options of @electric-sql/client with no effect here', () => {
  it('are named once per option per client with what to use instead, never thrown; other unknown options stay silent', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { client } = setup()
    const electric = {
      warnOnHttp: false,
      subsetMethod: 'POST',
      runtimeVisibility: {},
      subscribe: false,
      backoffOptions: { initialDelay: 10, maxDelay: 10, multiplier: 1, onFailedAttempt: () => undefined, debug: true },
      somethingElse: 1,
    }
    client.shape({ url, params: { table: 'a' }, ...electric } as ShapeOptions)
    client.shape({ url, params: { table: 'b' }, ...electric } as ShapeOptions)
    const messages = warn.mock.calls.map((call) => String(call[0]))
    expect(messages).toHaveLength(6)
    for (const name of ['warnOnHttp', 'subsetMethod', 'runtimeVisibility', 'subscribe', 'backoffOptions.onFailedAttempt', 'backoffOptions.debug']) {
      expect(messages.filter((message) => message.includes(`"${name}"`))).toHaveLength(1)
    }
    expect(messages.find((message) => message.includes('"runtimeVisibility"'))).toMatch(/new ShapeClient\(\{ visibility \}\)/)
    expect(messages.join('\n')).not.toMatch(/somethingElse/)
    // What we do anyway is not warned about; another client warns again.
    client.shape({ url, params: { table: 'c' }, subsetMethod: 'GET' } as ShapeOptions)
    expect(warn).toHaveBeenCalledTimes(6)
    setup().client.shape({ url, params: { table: 'a' }, warnOnHttp: false } as ShapeOptions)
    expect(warn).toHaveBeenCalledTimes(7)
  })

  it('experimentalLiveSse is liveSse, as in the hooks', () => {
    const { client } = setup()
    const shape = client.shape({ url, params: { table: 'items' }, experimentalLiveSse: true } as ShapeOptions)
    expect(client.shape({ url, params: { table: 'items' }, liveSse: true })).toBe(shape)
    expect(client.shape({ url, params: { table: 'items' } })).not.toBe(shape)
  })
})

describe('offset and handle', () => {
  it('are refused with InvalidOptionsError saying what to use instead; offset "-1" (the start) is accepted', async () => {
    const { client, clientServer } = setup()
    for (const position of [{ offset: 'now' }, { offset: '0_0', handle: HANDLE }, { handle: HANDLE }, { offset: '-1', handle: HANDLE }]) {
      const create = () => client.shape({ url, params: { table: 'items' }, ...position } as ShapeOptions)
      expect(create).toThrow(InvalidOptionsError)
      expect(create).toThrow(/log: 'changes_only'/)
      await expect(client.fetchSnapshot({ url, params: { table: 'items' }, ...position } as ShapeOptions, { limit: 1, orderBy: 'id' })).rejects.toThrow(InvalidOptionsError)
    }
    expect(() => client.shape({ url, params: { table: 'items' }, offset: 'now' } as ShapeOptions)).toThrow(/"offset" \("now"\)/)
    expect(client.size).toBe(0)
    expect(client.shape({ url, params: { table: 'items' }, offset: '-1' } as ShapeOptions)).toBe(client.shape({ url, params: { table: 'items' } }))
    expect(clientServer.requests).toHaveLength(0)
  })
})
