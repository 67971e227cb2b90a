import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../src/core/errors'
import type { RequestPosition } from '../../src/core/requestUrl'
import { buildRequestUrl, resolveRequestInputs } from '../../src/core/requestUrl'

const BASE = 'http://localhost:3000/v1/shape'
const initial: RequestPosition = { offset: '-1', handle: undefined, live: false, cursor: undefined, cacheBuster: undefined, expiredHandle: undefined }

function query(url: string): Array<[string, string]> {
  return [...new URL(url).searchParams.entries()]
}

describe('buildRequestUrl', () => {
  it('sends table and log explicitly, params sorted', () => {
    const url = buildRequestUrl({ url: BASE, params: { table: 'items' }, log: 'full', position: initial })
    expect(url).toBe(`${BASE}?log=full&offset=-1&table=items`)
  })

  it('writes positional params in bracket form from an array (1..n) or a record', () => {
    const fromArray = buildRequestUrl({ url: BASE, params: { table: 't', where: 'a = $1 and b = $2', params: ['x', 'y&z'] }, log: 'full', position: initial })
    expect(query(fromArray)).toContainEqual(['params[1]', 'x'])
    expect(query(fromArray)).toContainEqual(['params[2]', 'y&z'])
    const fromRecord = buildRequestUrl({ url: BASE, params: { table: 't', params: { '2': 'b', '1': 'a' } }, log: 'full', position: initial })
    expect(query(fromRecord).filter(([k]) => k.startsWith('params'))).toEqual([
      ['params[1]', 'a'],
      ['params[2]', 'b'],
    ])
  })

  it("sends the where's identifiers through the column mapper, a subset's own where as written", () => {
    const url = buildRequestUrl({
      url: BASE,
      params: { table: 't', where: "isDone = $1 AND fullTitle <> 'isDone'", params: ['false'] },
      log: 'full',
      position: initial,
      encodeColumn: (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      extraParams: { subset__where: 'ownerId = 1' },
    })
    expect(new URL(url).searchParams.get('where')).toBe("is_done = $1 AND full_title <> 'isDone'")
    expect(new URL(url).searchParams.get('subset__where')).toBe('ownerId = 1')
    const unmapped = buildRequestUrl({ url: BASE, params: { table: 't', where: 'isDone = true' }, log: 'full', position: initial })
    expect(new URL(unmapped).searchParams.get('where')).toBe('isDone = true')
  })

  it('double-quotes every column (quotes doubled), encoded through the column mapper', () => {
    const url = buildRequestUrl({
      url: BASE,
      params: { table: 't', columns: ['id', 'userId', 'we"ird'] },
      log: 'changes_only',
      position: initial,
      encodeColumn: (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    })
    expect(new URL(url).searchParams.get('columns')).toBe('"id","user_id","we""ird"')
    expect(new URL(url).searchParams.get('log')).toBe('changes_only')
  })

  it('passes replica and custom params through (records as key[k], arrays comma-joined)', () => {
    const url = buildRequestUrl({
      url: `${BASE}?source_id=abc`,
      params: { table: 't', replica: 'full', tenant: 'acme', ids: ['1', '2'], filter: { a: '1' }, n: 3, flag: true },
      log: 'full',
      position: initial,
    })
    const params = new URL(url).searchParams
    expect(params.get('replica')).toBe('full')
    expect(params.get('tenant')).toBe('acme')
    expect(params.get('ids')).toBe('1,2')
    expect(params.get('filter[a]')).toBe('1')
    expect(params.get('n')).toBe('3')
    expect(params.get('flag')).toBe('true')
    expect(params.get('source_id')).toBe('abc')
    const keys = [...params.keys()]
    expect(keys).toEqual([...keys].sort())
  })

  it('adds handle, live=true and cursor only for live positions', () => {
    const live = buildRequestUrl({ url: BASE, params: { table: 't' }, log: 'full', position: { ...initial, offset: '5_2', handle: 'h', live: true, cursor: '120' } })
    expect(query(live)).toEqual([
      ['cursor', '120'],
      ['handle', 'h'],
      ['live', 'true'],
      ['log', 'full'],
      ['offset', '5_2'],
      ['table', 't'],
    ])
    const catchUp = buildRequestUrl({ url: BASE, params: { table: 't' }, log: 'full', position: { ...initial, offset: '5_2', handle: 'h', live: false, cursor: '120' } })
    expect(new URL(catchUp).searchParams.has('live')).toBe(false)
    expect(new URL(catchUp).searchParams.has('cursor')).toBe(false)
  })

  it('adds the cache buster, the expired handle and runner params', () => {
    const url = buildRequestUrl({
      url: BASE,
      params: { table: 't' },
      log: 'full',
      position: { ...initial, handle: 'new', cacheBuster: '1-x', expiredHandle: 'old' },
      extraParams: { live_sse: 'true' },
    })
    const params = new URL(url).searchParams
    expect(params.get('cache-buster')).toBe('1-x')
    expect(params.get('expired_handle')).toBe('old')
    expect(params.get('handle')).toBe('new')
    expect(params.get('live_sse')).toBe('true')
  })

  it('rejects positional params that are not strings', () => {
    expect(() => buildRequestUrl({ url: BASE, params: { table: 't', params: 'x' }, log: 'full', position: initial })).toThrow(InvalidOptionsError)
  })
})

describe('resolveRequestInputs', () => {
  it('resolves function-valued headers and params in parallel, on every call', async () => {
    let token = 0
    const started: string[] = []
    const gates: Array<() => void> = []
    const slow = (name: string, value: () => string) => () => {
      started.push(name)
      return new Promise<string>((resolve) => gates.push(() => resolve(value())))
    }
    const headers = { Authorization: slow('auth', () => `Bearer ${++token}`), 'X-Static': 'yes' }
    const params = { table: 'items', tenant: slow('tenant', () => 'acme') }
    const pending = resolveRequestInputs(headers, params)
    await Promise.resolve()
    expect(started).toEqual(['auth', 'tenant'])
    for (const open of gates.splice(0)) open()
    expect(await pending).toEqual({ headers: { Authorization: 'Bearer 1', 'X-Static': 'yes' }, params: { table: 'items', tenant: 'acme' } })
    const again = resolveRequestInputs(headers, params)
    await Promise.resolve()
    for (const open of gates.splice(0)) open()
    expect((await again).headers.Authorization).toBe('Bearer 2')
  })

  it('drops undefined headers and rejects non-string ones', async () => {
    expect((await resolveRequestInputs({ A: undefined, B: () => undefined }, { table: 't' })).headers).toEqual({})
    await expect(resolveRequestInputs({ A: (() => 3) as unknown as () => string }, { table: 't' })).rejects.toBeInstanceOf(InvalidOptionsError)
  })
})
