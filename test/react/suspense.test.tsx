import { describe, it, expect, afterEach, vi } from 'vitest'
import { Component, StrictMode, Suspense } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, screen } from '@testing-library/react'
import { FetchError, ShapeClient, ShapeRequestError } from '../../src/core/index'
import { ShapeClientProvider, useSuspenseShape } from '../../src/react/index'
import { createManualClock } from './support/manualClock'
import { errorResponse, scriptedFetch, snapshotResponse } from './support/scriptedFetch'
import type { Item } from './support/harness'

const URL_ = 'http://shapes.test/v1/shape'
const OPTIONS = { url: URL_, params: { table: 'items' } }
let client: ShapeClient | undefined
// React 18 reports errors caught by a boundary as uncaught window errors in development; they are expected here.
const ignoreWindowError = (event: Event): void => event.preventDefault()
window.addEventListener('error', ignoreWindowError)
afterEach(() => {
  cleanup()
  client?.dispose()
  vi.restoreAllMocks()
})

class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined }
  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error }
  }
  override render(): ReactNode {
    const { error } = this.state
    if (error === undefined) return this.props.children
    return <p>{`caught ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`}</p>
  }
}

function Items() {
  const { data, isLoading } = useSuspenseShape<Item>(OPTIONS)
  return <p>{`${String(isLoading)}:${data.map((row) => row.title).join(',')}`}</p>
}

function setup(strict = false) {
  const script = scriptedFetch()
  const clock = createManualClock()
  client = new ShapeClient({ fetch: script.fetch, clock, random: () => 0.5, visibility: null })
  const tree = () => (
    <ShapeClientProvider client={client!}>
      <Boundary>
        <Suspense fallback={<p>suspended</p>}>
          <Items />
        </Suspense>
      </Boundary>
    </ShapeClientProvider>
  )
  const view = render(strict ? <StrictMode>{tree()}</StrictMode> : tree())
  /** Renders the tree again (new elements), as a parent's state change would. */
  const rerender = (): void => view.rerender(strict ? <StrictMode>{tree()}</StrictMode> : tree())
  return { script, clock, rerender, unmount: () => view.unmount() }
}

describe('useSuspenseShape', () => {
  it('suspends until the first up-to-date, then renders the rows; the suspension hands the stream to the component', async () => {
    const { script, clock } = setup()
    expect(screen.getByText('suspended')).toBeTruthy()
    const first = await script.next()
    await act(async () => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }, { id: 2, title: 'b', done: false }])))
    await screen.findByText('false:a,b')
    const shape = client!.shape(OPTIONS)
    expect(shape.refCount).toBe(1)
    act(() => clock.advance(10_000))
    expect(client!.size).toBe(1)
    const live = await script.next()
    expect(live.live).toBe(true)
  })

  it('opens one stream under StrictMode', async () => {
    const { script } = setup(true)
    const first = await script.next()
    await act(async () => first.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('false:a')
    const live = await script.next()
    expect(live.live).toBe(true)
    expect(live.url.searchParams.get('offset')).toBe('0_0')
    expect(script.waiting).toBe(1)
  })

  it('throws a 400 to the error boundary as a ShapeRequestError', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const { script } = setup()
    const first = await script.next()
    await act(async () => first.respond(errorResponse(400, { message: 'Invalid request', errors: { table: ['does not exist'] } })))
    const shown = await screen.findByText(/^caught/)
    expect(shown.textContent).toBe(`caught ${ShapeRequestError.name}: Invalid request: table: does not exist`)
  })

  it('throws a 401 to the error boundary as a FetchError', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const { script } = setup()
    const first = await script.next()
    await act(async () => first.respond(errorResponse(401, { message: 'unauthorized' })))
    const shown = await screen.findByText(/^caught/)
    expect(shown.textContent).toMatch(new RegExp(`^caught ${FetchError.name}: HTTP 401`))
  })

  it('stays suspended through retryable failures (503, network) and renders once a retry succeeds', async () => {
    const { script, clock, rerender } = setup()
    const first = await script.next()
    await act(async () => first.respond(errorResponse(503, { message: 'busy' })))
    // A render during the backoff (a parent's state change) must keep suspending, not throw the retryable error.
    await act(async () => rerender())
    expect(screen.getByText('suspended')).toBeTruthy()
    await act(async () => clock.advance(clock.nextDueIn() ?? 0))
    const second = await script.next()
    await act(async () => second.fail(new TypeError('fetch failed')))
    await act(async () => rerender())
    expect(screen.getByText('suspended')).toBeTruthy()
    expect(screen.queryByText(/^caught/)).toBeNull()
    await act(async () => clock.advance(clock.nextDueIn() ?? 0))
    const third = await script.next()
    expect(third.url.searchParams.get('offset')).toBe('-1')
    await act(async () => third.respond(snapshotResponse([{ id: 1, title: 'a', done: false }])))
    await screen.findByText('false:a')
  })

  it('unmounted while suspended on a shape that keeps failing, leaves nothing behind after its next failure and the grace period', async () => {
    const { script, clock, unmount } = setup()
    const first = await script.next()
    await act(async () => first.respond(errorResponse(503, { message: 'busy' })))
    expect(screen.getByText('suspended')).toBeTruthy()
    unmount()
    // Every retry fails too. The suspension ends at the next failure and nobody is left to suspend again: the retry in
    // flight and one sent during the grace period at most, then the shape closes (before: retried forever).
    let retries = 0
    for (let step = 0; step < 20 && client!.size > 0; step++) {
      await act(async () => clock.advance(clock.nextDueIn() ?? 0))
      if (script.waiting > 0) {
        retries += 1
        const retry = await script.next()
        await act(async () => retry.respond(errorResponse(503, { message: 'busy' })))
      }
    }
    expect(retries).toBeLessThanOrEqual(2)
    expect(client!.size).toBe(0)
    expect(script.waiting).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('leaves nothing behind once the error boundary has shown the error: no retain, no request, the shape evicted', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const { script, clock } = setup()
    const first = await script.next()
    await act(async () => first.respond(errorResponse(400, { message: 'Invalid request', errors: { table: ['does not exist'] } })))
    await screen.findByText(/^caught/)
    const shape = client!.shape(OPTIONS)
    expect(shape.refCount).toBe(0)
    expect(script.waiting).toBe(0)
    act(() => clock.advance(60_000))
    expect(client!.size).toBe(0)
    expect(script.waiting).toBe(0)
  })
})
