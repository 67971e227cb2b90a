/**
 * `@electric-sql/react`'s `useShape` options object given to ours (src/core/electricOptions.ts): an inline
 * `fetchClient` carries the shape's requests (long-poll and SSE) without making a new shape per render, positions are
 * refused during render, and options with no effect here are warned about once per client, not per render.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { useState } from 'react'
import { renderToString } from 'react-dom/server'
import { act, cleanup, render, screen } from '@testing-library/react'
import { InvalidOptionsError, ShapeClient } from '../../src/core/index'
import type { FetchLike, ShapeOptions } from '../../src/core/index'
import { sseRunner } from '../../src/core/sseRunner'
import { ShapeClientProvider, useShape } from '../../src/react/index'
import type { UseShapeOptions } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  vi.restoreAllMocks()
  await harness?.close()
  harness = undefined
})

const settle = async (ms = 300): Promise<void> => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
}

/** A client whose own fetch is refused as a proxy refuses an unauthenticated request; `authorized` passes a bearer. */
function authHarness(clientOptions: { liveSse?: boolean } = {}) {
  const denied: string[] = []
  let inner: FetchLike = () => Promise.reject(new Error('no server yet'))
  const guarded: FetchLike = (input, init) => {
    if (new Headers(init.headers).get('authorization')?.startsWith('Bearer ') === true) return inner(input, init)
    denied.push(input)
    return Promise.resolve(new Response(JSON.stringify({ message: 'Unauthorized' }), { status: 401, headers: { 'content-type': 'application/json' } }))
  }
  const h = createHarness(makeItems(2), { fetch: guarded, ...(clientOptions.liveSse ? { liveRunner: sseRunner } : {}) })
  inner = h.requests.fetch as FetchLike
  return { h, guarded, denied }
}

describe('useShape with an inline fetchClient', () => {
  it('sends every request through it (an auth header), keeps one shape across renders, and calls the latest one', async () => {
    const { h, guarded, denied } = authHarness()
    harness = h
    const seen: string[] = []
    let renders = 0
    let setToken: (token: string) => void = () => undefined
    function List() {
      renders += 1
      const [token, set] = useState('t1')
      setToken = set
      const result = useShape<Item>({
        url: h.server.url,
        params: { table: h.table },
        fetchClient: (input, init) => {
          seen.push(token)
          const headers = new Headers(init.headers)
          headers.set('authorization', `Bearer ${token}`)
          return guarded(input, { ...init, headers })
        },
      })
      return <p>{result.isError ? `error ${String(result.error)}` : result.isLoading ? 'loading' : `${result.data.length} rows`}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('2 rows')
    await settle()
    expect(denied).toEqual([])
    expect(renders).toBeLessThanOrEqual(4)
    expect(h.requests.initial).toBe(1)
    const shape = h.client.getShapes()[0]
    act(() => setToken('t2'))
    await act(() => h.server.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('3 rows')
    await settle(50)
    expect(h.client.getShapes()).toEqual([shape])
    expect(seen[0]).toBe('t1')
    expect(seen.at(-1)).toBe('t2')
    expect(h.requests.initial).toBe(1)
  })

  it('carries the SSE connection too', async () => {
    const { h, guarded, denied } = authHarness({ liveSse: true })
    harness = h
    const urls: string[] = []
    function List() {
      const result = useShape<Item>({
        url: h.server.url,
        params: { table: h.table },
        liveSse: true,
        fetchClient: (input, init) => {
          urls.push(input)
          return guarded(input, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: 'Bearer sse' } })
        },
      })
      return <p>{result.isLoading ? 'loading' : `${result.data.length} rows`}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('2 rows')
    await act(() => h.server.insert(h.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('3 rows')
    expect(urls.some((url) => new URL(url).searchParams.get('live_sse') === 'true')).toBe(true)
    expect(denied).toEqual([])
  })
})

describe('options of @electric-sql/react the hooks cannot honour', () => {
  it('offset and handle throw InvalidOptionsError during render, saying what to use instead', () => {
    const client = new ShapeClient({ visibility: null, connectivity: null })
    const options = { url: 'http://localhost:3000/v1/shape', params: { table: 'items' } }
    for (const position of [{ offset: 'now' }, { offset: '0_0', handle: '1-2' }]) {
      function Bad() {
        const { data } = useShape({ ...options, ...position } as UseShapeOptions)
        return <p>{data.length}</p>
      }
      const rendered = () => renderToString(<ShapeClientProvider client={client}><Bad /></ShapeClientProvider>)
      expect(rendered).toThrow(InvalidOptionsError)
      expect(rendered).toThrow(/log: 'changes_only'/)
    }
    expect(client.size).toBe(0)
    client.dispose()
  })

  it('an option with no effect is warned about once per client, not per render or per component', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    harness = createHarness(makeItems(1))
    const h = harness
    let bump: () => void = () => undefined
    function List({ table }: { table: string }) {
      const [count, set] = useState(0)
      if (table === h.table) bump = () => set(count + 1)
      const result = useShape<Item>({ url: h.server.url, params: { table }, warnOnHttp: false } as ShapeOptions<Item>)
      return <p>{result.isLoading ? 'loading' : `${table}:${result.data.length}:${count}`}</p>
    }
    render(
      <>
        <List table={h.table} />
        <List table={h.table} />
      </>,
      { wrapper: h.wrapper },
    )
    await screen.findAllByText(`${h.table}:1:0`)
    act(() => bump())
    act(() => bump())
    await screen.findByText(`${h.table}:1:2`)
    const warnings = warn.mock.calls.map((call) => String(call[0])).filter((message) => message.includes('"warnOnHttp"'))
    expect(warnings).toHaveLength(1)
  })
})
