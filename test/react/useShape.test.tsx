import { describe, it, expect, afterEach, vi } from 'vitest'
import { Component, useState } from 'react'
import type { ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { InvalidOptionsError, ReservedParamError, ShapeClient, shallow } from '../../src/core/index'
import { resetDefaultShapeClient, ShapeClientProvider, useShape } from '../../src/react/index'
import type { UseShapeOptions, UseShapeResult } from '../../src/react/index'
import type { Shape } from '../../src/core/index'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

const GRACE_MS = 3000
let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  vi.unstubAllGlobals()
  resetDefaultShapeClient()
  await harness?.close()
  harness = undefined
})

describe('useShape', () => {
  it('returns the fields of @electric-sql/react with its conventions, plus rows by key and isUpToDate', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const seen: UseShapeResult<Item>[] = []
    function List() {
      const result = useShape<Item>(h.options())
      seen.push(result)
      return <p>{result.isLoading ? 'loading' : result.data.map((row) => row.title).join(',')}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    expect(seen[0]).toMatchObject({ data: [], isLoading: true, isError: false, error: false, lastSyncedAt: undefined, isUpToDate: false })
    await screen.findByText('item 1,item 2')
    const last = seen.at(-1)!
    const shape = h.client.shape<Item>(h.options())
    expect(last.shape).toBe(shape)
    expect(last.data).toBe(shape.getSnapshot().data)
    expect(last.rows).toBe(shape.getSnapshot().rows)
    expect([...last.rows.values()]).toEqual(last.data)
    expect(last).toMatchObject({ isLoading: false, isError: false, error: false, isUpToDate: true, isPlaceholderData: false })
    expect(last.data).toEqual([
      { id: 1, title: 'item 1', done: false },
      { id: 2, title: 'item 2', done: false },
    ])
    expect(last.lastSyncedAt).toBe(h.clock.now())
  })

  it('keeps the same result object and subscription across re-renders with inline options and selector', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const shape = h.client.shape<Item>(h.options())
    const subscribe = vi.spyOn(shape, 'subscribe')
    const seen: Array<readonly Item[]> = []
    let bump: () => void = () => undefined
    function List() {
      const [tick, setTick] = useState(0)
      bump = () => setTick((value) => value + 1)
      const data = useShape<Item, readonly Item[]>({ url: h.server.url, params: { table: h.table }, selector: (result) => result.data })
      seen.push(data)
      return <p>{`${tick}:${data.length}`}</p>
    }
    render(<List />, { wrapper: h.wrapper })
    await screen.findByText('0:2')
    const subscriptions = subscribe.mock.calls.length
    const before = seen.at(-1)
    for (let index = 1; index <= 5; index++) {
      act(() => bump())
      await screen.findByText(`${index}:2`)
    }
    expect(subscribe.mock.calls.length).toBe(subscriptions)
    expect(seen.at(-1)).toBe(before)
    expect(h.requests.initial).toBe(1)
  })

  it('re-renders a selector component only when its selection changes (isEqual: shallow)', async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    let renders = 0
    function DoneIds() {
      const ids = useShape<Item, number[]>({
        ...h.options(),
        selector: (result) => result.data.filter((row) => row.done).map((row) => row.id),
        isEqual: shallow,
      })
      renders += 1
      return <p>{`done:${ids.join(',')}`}</p>
    }
    render(<DoneIds />, { wrapper: h.wrapper })
    await screen.findByText('done:')
    const shape = h.client.shape<Item>(h.options())
    await act(() => shape.whenUpToDate())
    const settled = renders
    act(() => h.server.source.update(h.table, { id: 1, title: 'renamed' }))
    await waitFor(() => expect(shape.getRow(`"public"."${h.table}"/"1"`)?.title).toBe('renamed'))
    expect(renders).toBe(settled)
    act(() => h.server.source.update(h.table, { id: 2, done: true }))
    await screen.findByText('done:2')
    expect(renders).toBe(settled + 1)
  })

  it('warns in development about a selector that returns a new value for the same input, unless isEqual says equal', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    function Unstable() {
      const rows = useShape<Item, Item[]>({ ...h.options(), selector: (result) => result.data.filter((row) => !row.done) })
      return <p>{`unstable:${rows.length}`}</p>
    }
    function Stable() {
      const rows = useShape<Item, Item[]>({ ...h.options(), selector: (result) => result.data.filter((row) => !row.done), isEqual: shallow })
      return <p>{`stable:${rows.length}`}</p>
    }
    const view = render(<Stable />, { wrapper: h.wrapper })
    await screen.findByText('stable:2')
    expect(warn).not.toHaveBeenCalled()
    view.rerender(<Unstable />)
    await screen.findByText('unstable:2')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/selector returned a different value/)
    warn.mockRestore()
  })

  it("runs @electric-sql/react selectors that edit the result they receive and return it (Electric's docs pattern)", async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const selected: UseShapeResult<Item>[] = []
    function OpenItems() {
      const result = useShape<Item>({
        ...h.options(),
        selector: (result) => {
          result.data = result.data.filter((row) => !row.done)
          return result
        },
      })
      selected.push(result)
      return <p>{`open:${result.data.map((row) => row.id).join(',')}`}</p>
    }
    function AllItems() {
      const { data } = useShape<Item>(h.options())
      return <p>{`all:${data.map((row) => row.id).join(',')}`}</p>
    }
    render(
      <>
        <OpenItems />
        <AllItems />
      </>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('open:1,2,3', {}, { timeout: 10_000 })
    act(() => h.server.source.update(h.table, { id: 2, done: true }))
    await screen.findByText('open:1,3', {}, { timeout: 10_000 })
    // The edit stayed in the selector's own copy: the shape's rows and the other component are untouched.
    await screen.findByText('all:1,2,3', {}, { timeout: 10_000 })
    const shape = h.client.shape<Item>(h.options())
    expect(shape.getSnapshot().data.map((row) => row.id)).toEqual([1, 2, 3])
    const last = selected.at(-1)!
    expect(last).toMatchObject({ isLoading: false, isError: false, error: false, shape })
    expect(Object.isFrozen(last)).toBe(false)
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
  })

  it("compares renders by the client's own shape identity: equivalent options never ask the client again, a change does", async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const asked = vi.spyOn(h.client, 'shape')
    const int4 = (value: string) => Number(value)
    const byRender: Record<string, UseShapeOptions<Item>> = {
      first: { url: h.server.url, params: { table: h.table, where: 'id > $1', params: ['0'] }, parser: { int4 } },
      // The same shape for the client: positional params as a record, explicit defaults, a new inline parser object
      // of the same function, and options that are the component's only (subscribe, onError, a selector's keys).
      same: {
        url: h.server.url,
        params: { params: { '1': '0' }, where: 'id > $1', table: h.table, replica: 'default' },
        log: 'full',
        parser: { int4 },
        subscribe: true,
        onError: () => undefined,
      },
      // @electric-sql/react's name for liveSse is a different shape for the client, so for the hook too.
      sse: { url: h.server.url, params: { table: h.table, where: 'id > $1', params: ['0'] }, parser: { int4 }, experimentalLiveSse: true },
    }
    const seen: Array<Shape<Item> | undefined> = []
    function List({ variant }: { variant: string }) {
      const { shape, data } = useShape<Item>(byRender[variant]!)
      seen.push(shape)
      return <p>{`${variant}:${data.length}`}</p>
    }
    const view = render(<List variant="first" />, { wrapper: h.wrapper })
    await screen.findByText('first:2', {}, { timeout: 10_000 })
    view.rerender(<List variant="same" />)
    await screen.findByText('same:2', {}, { timeout: 10_000 })
    expect(asked).toHaveBeenCalledTimes(1)
    expect(new Set(seen).size).toBe(1)
    view.rerender(<List variant="sse" />)
    await screen.findByText('sse:2', {}, { timeout: 10_000 })
    expect(asked).toHaveBeenCalledTimes(2)
    expect(seen.at(-1)).not.toBe(seen[0])
    expect(seen.at(-1)).toBe(h.client.shape<Item>({ ...byRender['first']!, liveSse: true }))
  })

  it('runs a selector again when the props it closes over change', async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    function Count({ min }: { min: number }) {
      const count = useShape<Item, number>({ ...h.options(), selector: (result) => result.data.filter((row) => row.id >= min).length })
      return <p>{`count:${count}`}</p>
    }
    const view = render(<Count min={1} />, { wrapper: h.wrapper })
    await screen.findByText('count:3')
    view.rerender(<Count min={3} />)
    expect(screen.getByText('count:1')).toBeTruthy()
  })

  it('enabled: false creates no shape and opens nothing; enabling it loads', async () => {
    harness = createHarness(makeItems(1))
    const h = harness
    let last: UseShapeResult<Item> | undefined
    function List({ enabled }: { enabled: boolean }) {
      last = useShape<Item>({ ...h.options(), enabled })
      return <p>{`${String(last.isLoading)}:${last.data.length}`}</p>
    }
    const view = render(<List enabled={false} />, { wrapper: h.wrapper })
    expect(last).toMatchObject({ isLoading: false, data: [], error: false, shape: undefined })
    expect(h.client.size).toBe(0)
    expect(h.requests.started).toBe(0)
    view.rerender(<List enabled />)
    await screen.findByText('false:1')
  })

  it('keeps the previous rows while a changed definition syncs (no flash of empty content)', async () => {
    harness = createHarness(makeItems(5))
    const h = harness
    const lengths: number[] = []
    const placeholders: boolean[] = []
    function List({ max }: { max: number }) {
      const result = useShape<Item>(h.options({ where: 'id <= $1', params: [String(max)] }))
      lengths.push(result.data.length)
      placeholders.push(result.isPlaceholderData)
      return <p>{`rows:${result.data.length}`}</p>
    }
    const view = render(<List max={2} />, { wrapper: h.wrapper })
    // The first `where` of a run loads the server's SQL parser (WebAssembly): allow it time.
    await screen.findByText('rows:2', undefined, { timeout: 15_000 })
    const from = lengths.length
    view.rerender(<List max={4} />)
    expect(placeholders.at(-1)).toBe(true)
    await screen.findByText('rows:4')
    expect(lengths.slice(from).every((length) => length === 2 || length === 4)).toBe(true)
    expect(placeholders.at(-1)).toBe(false)
    expect(h.requests.initial).toBe(2)
  }, 30_000)

  it('with a selector, the placeholder ends when the new definition settles even if its selection never changed', async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    function Count({ max }: { max: number }) {
      // The new definition selects 0 while loading and 0 once synced (no row matches): only settling can end the
      // placeholder (the previous definition's 2).
      const count = useShape<Item, number>({ ...h.options({ where: 'id <= $1', params: [String(max)] }), selector: (r) => r.data.length })
      return <p>{`count:${count}`}</p>
    }
    const view = render(<Count max={2} />, { wrapper: h.wrapper })
    await screen.findByText('count:2', undefined, { timeout: 15_000 })
    view.rerender(<Count max={0} />)
    expect(screen.getByText('count:2')).toBeTruthy()
    await screen.findByText('count:0')
  }, 30_000)

  it('never brings back rows from before a disabled period as placeholder (another user signed in after a sign-out)', async () => {
    harness = createHarness(makeItems(5))
    const h = harness
    const seen: Array<{ length: number; placeholder: boolean }> = []
    function List({ max }: { max: number | undefined }) {
      const result = useShape<Item>({ ...h.options({ where: 'id <= $1', params: [String(max ?? 0)] }), enabled: max !== undefined })
      seen.push({ length: result.data.length, placeholder: result.isPlaceholderData })
      return <p>{`rows:${result.data.length}`}</p>
    }
    const view = render(<List max={2} />, { wrapper: h.wrapper })
    await screen.findByText('rows:2', undefined, { timeout: 15_000 })
    view.rerender(<List max={undefined} />)
    expect(screen.getByText('rows:0')).toBeTruthy()
    const from = seen.length
    view.rerender(<List max={4} />)
    await screen.findByText('rows:4')
    // Before: the first definition's 2 rows came back as placeholder while the new one loaded.
    expect(seen.slice(from).map(({ length }) => length).filter((length) => length !== 4)).toEqual([0])
    expect(seen.slice(from).some(({ placeholder }) => placeholder)).toBe(false)
  }, 30_000)

  it("never shows another client's rows as placeholder (a new client for the next user)", async () => {
    harness = createHarness(makeItems(3))
    const h = harness
    const seen: Array<{ length: number; placeholder: boolean }> = []
    function List() {
      const result = useShape<Item>(h.options())
      seen.push({ length: result.data.length, placeholder: result.isPlaceholderData })
      return <p>{`rows:${result.data.length}`}</p>
    }
    const view = render(
      <ShapeClientProvider client={h.client}>
        <List />
      </ShapeClientProvider>,
    )
    await screen.findByText('rows:3')
    h.client.dispose()
    await h.server.delete(h.table, { id: 3 })
    const next = new ShapeClient({ fetch: h.server.fetch, visibility: null })
    const from = seen.length
    view.rerender(
      <ShapeClientProvider client={next}>
        <List />
      </ShapeClientProvider>,
    )
    await screen.findByText('rows:2')
    // Before: the first client's 3 rows were shown (isPlaceholderData) until the new client's shape was up to date.
    expect(seen.slice(from).some(({ placeholder }) => placeholder)).toBe(false)
    expect(seen.slice(from).map(({ length }) => length).filter((length) => length !== 2)).toEqual([0])
    view.unmount()
    next.dispose()
  })

  it('an aborted signal releases the stream; subscribe: false lets it go after the first up-to-date, keeping the rows', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const controller = new AbortController()
    function Signalled() {
      const { data } = useShape<Item>({ ...h.options({ v: 'signal' }), signal: controller.signal })
      return <p>{`signal:${data.length}`}</p>
    }
    function Once() {
      const { data } = useShape<Item>({ ...h.options({ v: 'once' }), subscribe: false })
      return <p>{`once:${data.length}`}</p>
    }
    render(
      <>
        <Signalled />
        <Once />
      </>,
      { wrapper: h.wrapper },
    )
    await screen.findByText('signal:2')
    await screen.findByText('once:2')
    expect(h.client.shape(h.options({ v: 'once' })).refCount).toBe(0)
    controller.abort()
    act(() => h.clock.advance(GRACE_MS))
    expect(h.client.size).toBe(0)
    await h.requests.idle()
    expect(screen.getByText('signal:2')).toBeTruthy()
    expect(screen.getByText('once:2')).toBeTruthy()
  })
})

describe('bad options', () => {
  it('throws a typed error for options that cannot describe a shape, for the nearest error boundary', () => {
    harness = createHarness()
    const h = harness
    const caught: unknown[] = []
    class Boundary extends Component<{ children: ReactNode }, { failed: boolean }> {
      override state = { failed: false }
      static getDerivedStateFromError(): { failed: boolean } {
        return { failed: true }
      }
      override componentDidCatch(error: unknown): void {
        caught.push(error)
      }
      override render(): ReactNode {
        return this.state.failed ? <p>failed</p> : this.props.children
      }
    }
    function Bad() {
      const { data } = useShape<Item>({ url: h.server.url, params: { table: h.table, offset: '0_0' } })
      return <p>{data.length}</p>
    }
    const ignore = (event: Event): void => event.preventDefault()
    window.addEventListener('error', ignore)
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    render(
      <Boundary>
        <Bad />
      </Boundary>,
      { wrapper: h.wrapper },
    )
    quiet.mockRestore()
    window.removeEventListener('error', ignore)
    expect(screen.getByText('failed')).toBeTruthy()
    expect(caught[0]).toBeInstanceOf(ReservedParamError)
    expect(h.client.size).toBe(0)
  })
})

describe('options of the wrong kind', () => {
  it('throws InvalidOptionsError naming the option, not a TypeError from inside the hook', () => {
    const client = new ShapeClient({ visibility: null, connectivity: null })
    const options = { url: 'http://localhost:3000/v1/shape', params: { table: 'items' } }
    const bad: Array<[unknown, RegExp]> = [
      [null, /Shape options must be an object/],
      ['items', /Shape options must be an object/],
      [{ ...options, selector: 5 }, /useShape option "selector" must be a function/],
      [{ ...options, isEqual: 'shallow' }, /useShape option "isEqual" must be a function/],
    ]
    for (const [value, message] of bad) {
      function Bad() {
        const { data } = useShape(value as UseShapeOptions)
        return <p>{data.length}</p>
      }
      const rendered = () => renderToString(<ShapeClientProvider client={client}><Bad /></ShapeClientProvider>)
      expect(rendered).toThrow(InvalidOptionsError)
      expect(rendered).toThrow(message)
    }
    expect(client.size).toBe(0)
    client.dispose()
  })
})

describe('client resolution', () => {
  it('uses a default client in a browser without a provider', async () => {
    harness = createHarness(makeItems(1))
    const h = harness
    vi.stubGlobal('fetch', h.server.fetch)
    function List() {
      const { data } = useShape<Item>(h.options())
      return <p>{`rows:${data.length}`}</p>
    }
    render(<List />)
    await screen.findByText('rows:1')
    expect(h.client.size).toBe(0)
  })

  it('throws on a server without a provider instead of sharing a module-level client', () => {
    function List() {
      const { data } = useShape<Item>({ url: 'http://x.test/v1/shape', params: { table: 'items' } })
      return <p>{data.length}</p>
    }
    vi.stubGlobal('window', undefined)
    expect(() => renderToString(<List />)).toThrow(/ShapeClientProvider/)
  })

  it('renders on the server what the store holds, through getServerSnapshot', async () => {
    harness = createHarness(makeItems(2))
    const h = harness
    const client = new ShapeClient({ fetch: h.server.fetch, visibility: null })
    const shape = client.shape<Item>(h.options())
    const release = shape.retain()
    await shape.whenUpToDate()
    function List() {
      const { data, isLoading } = useShape<Item>(h.options())
      return <p>{isLoading ? 'loading' : data.map((row) => row.title).join(',')}</p>
    }
    const html = renderToString(
      <ShapeClientProvider client={client}>
        <List />
      </ShapeClientProvider>,
    )
    expect(html).toBe('<p>item 1,item 2</p>')
    release()
    client.dispose()
  })
})
