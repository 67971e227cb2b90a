/**
 * Function-valued options written inline in the hooks (src/react/functionOptions.ts): one shape and no request loop,
 * the latest render's function called, and hoisted functions still shared by every component.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { useState } from 'react'
import { act, cleanup, render, screen } from '@testing-library/react'
import { createColumnMapper } from '../../src/core/index'
import type { ShapeOptions } from '../../src/core/index'
import { useShape, useShapeStatus } from '../../src/react/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

const settle = async (ms = 300): Promise<void> => {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
}

type Extra = (table: string) => Partial<ShapeOptions<Item>>

const INLINE: Record<string, Extra> = {
  'a header function': () => ({ headers: { authorization: () => 'Bearer x' } }),
  'an async header function': () => ({ headers: { authorization: async () => 'Bearer x' } }),
  'a param function': (table) => ({ params: { table, where: 'id > $1', params: () => ['0'] } }),
  'a where function': (table) => ({ params: { table, where: () => 'id > 0' } }),
  'a parser': () => ({ parser: { int4: (value: string) => Number(value) } }),
  'a transformer': () => ({ transformer: (row) => row as unknown as Item }),
  'createColumnMapper(...)': () => ({ columnMapper: createColumnMapper({ title: 'title' }) }),
}

describe('inline function options', () => {
  it.each(Object.entries(INLINE))('%s makes one shape and no request loop', async (_, extra) => {
    harness = createHarness(makeItems(2))
    const h = harness
    let renders = 0
    function List() {
      renders += 1
      const result = useShape<Item>({ url: h.server.url, params: { table: h.table }, ...extra(h.table) } as ShapeOptions<Item>)
      return <p>{result.isLoading ? 'loading' : result.data.map((row) => row.title).join(',')}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('item 1,item 2')
    await settle()
    // Before forwarders: 150–200 renders and as many shapes in 300 ms, the list never loading.
    expect(renders).toBeLessThanOrEqual(4)
    expect(h.requests.initial).toBe(1)
    expect(h.requests.started).toBeLessThanOrEqual(3)
  })

  it('calls the latest render’s function: a new token reaches the next request without a new shape', async () => {
    const seen: string[] = []
    let inner: typeof fetch = () => Promise.reject(new Error('no server yet'))
    harness = createHarness(makeItems(1), {
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization') ?? '-')
        return inner(input, init)
      },
    })
    const h = harness
    inner = h.server.fetch
    let setToken: (token: string) => void = () => undefined
    function List() {
      const [token, set] = useState('t1')
      setToken = set
      const result = useShape<Item>({ url: h.server.url, params: { table: h.table }, headers: { authorization: () => `Bearer ${token}` } })
      return <p>{result.isLoading ? 'loading' : `${result.data.length} rows`}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('1 rows')
    const shape = h.client.getShapes()[0]
    act(() => setToken('t2'))
    await act(() => h.server.insert(h.table, { id: 2, title: 'item 2', done: false }))
    await screen.findByText('2 rows')
    await settle(50)
    expect(h.client.getShapes()).toEqual([shape])
    expect(seen[0]).toBe('Bearer t1')
    expect(seen.at(-1)).toBe('Bearer t2')
    expect(seen.filter((value) => value === 'Bearer t1').length).toBeLessThan(seen.length)
  })

  it('components given the same hoisted function share one shape and one stream', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const authorization = (): string => 'Bearer shared'
    const options = { url: h.server.url, params: { table: h.table }, headers: { authorization } }
    function List() {
      const result = useShape<Item>(options)
      return <p>{result.isLoading ? 'loading' : result.data.length}</p>
    }
    function Badge() {
      return <span>{useShapeStatus(options).phase}</span>
    }
    function Inline() {
      const result = useShape<Item>({ url: h.server.url, params: { table: h.table }, headers: { authorization } })
      return <i>{result.isLoading ? '' : 'inline'}</i>
    }
    render(
      <>
        <List />
        <Badge />
        <Inline />
      </>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('inline')
    await settle(50)
    expect(h.client.getShapes()).toHaveLength(1)
    // A loader's prefetch (client.shape with the same options) finds the hooks' shape too.
    expect(h.client.shape<Item>(options)).toBe(h.client.getShapes()[0])
    expect(h.requests.initial).toBe(1)
  })
})
