/**
 * The status badge the demo page and the stories show (demo/StatusBadge.tsx): during an outage it counts down to
 * `nextRetryAt` and offers Retry now (`shape.retryNow()`), and it never prints a request URL, which stays in
 * `error.url` for developers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { FetchError } from '../../src/core/index'
import { realClock } from '../../src/core/clock'
import type { FetchLike } from '../../src/core/index'
import { useShape } from '../../src/react/index'
import { StatusBadge } from '../../demo/StatusBadge'
import { createHarness, makeItems } from './support/harness'
import type { Harness, Item } from './support/harness'

let harness: Harness | undefined
afterEach(async () => {
  cleanup()
  await harness?.close()
  harness = undefined
})

const URL_LIKE = /https?:\/\/|\/v1\/shape|internal\.example/

/** A harness whose network answers `failure()` instead of the server while it returns a response. */
function withOutage(failure: () => Response | undefined): Harness {
  let h: Harness | undefined = undefined
  const fetch: FetchLike = (input, init) => {
    const answer = failure()
    return answer ? Promise.resolve(answer) : h!.server.fetch(input, init)
  }
  // Short long polls: a retried live request answers (and the phase says live) soon after the server is back.
  h = createHarness(makeItems(2), { fetch, clock: realClock }, { longPollTimeoutMs: 300 })
  return h
}

function Page({ h }: { h: Harness }) {
  const { data } = useShape<Item>(h.options())
  return (
    <>
      <StatusBadge source={h.options()} />
      <ul>{data.map((item) => <li key={item.id}>{item.title}</li>)}</ul>
    </>
  )
}

describe('the status badge', () => {
  it('counts down to the next retry during an outage, Retry now goes live at once, and no request URL is shown', async () => {
    let down = false
    const unavailable = (): Response =>
      new Response(JSON.stringify({ message: 'Service unavailable, see http://internal.example:3000/v1/shape?table=items' }), {
        status: 503,
        headers: { 'content-type': 'application/json', 'retry-after': '30' },
      })
    harness = withOutage(() => (down ? unavailable() : undefined))
    const h = harness
    render(<Page h={h} />, { wrapper: h.wrapper })
    await screen.findByText('item 2')
    await screen.findByText('live')

    down = true
    act(() => h.server.source.insert(h.table, { id: 3, title: 'item 3', done: false }))
    const countdown = await screen.findByTestId('status-retry')
    expect(countdown.textContent).toMatch(/^retrying in (29|30) s$/)
    expect(screen.getByTestId('status-phase').textContent).toBe('retrying')
    expect(screen.getByTestId('status-error-http').textContent).toBe('503')
    expect(screen.getByText('item 3')).toBeTruthy()
    const badge = screen.getByRole('region', { name: 'Shape status' })
    expect(badge.textContent).not.toMatch(URL_LIKE)
    expect(badge.getAttribute('title') ?? '').not.toMatch(URL_LIKE)
    const error = h.client.shape(h.options()).getStatus().error
    expect(error).toBeInstanceOf(FetchError)
    expect((error as FetchError).url).toMatch(/\/v1\/shape\?/)

    down = false
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }))
    await screen.findByText('live')
    expect(screen.queryByTestId('status-retry')).toBeNull()
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull()
  })

  it("shows a 400's message with the URLs in it elided, and keeps the URL in error.url", async () => {
    const refused = (): Response =>
      new Response(
        JSON.stringify({ message: 'Invalid request for http://internal.example:3000/v1/shape?table=items&where=x', errors: { where: ['unknown column x'] } }),
        { status: 400, headers: { 'content-type': 'application/json' } },
      )
    harness = withOutage(refused)
    const h = harness
    render(<Page h={h} />, { wrapper: h.wrapper })
    const message = await screen.findByTestId('status-error-message')
    expect(message.textContent).toMatch(/Invalid request/)
    expect(screen.getByTestId('status-phase').textContent).toBe('error')
    expect(screen.getByRole('region', { name: 'Shape status' }).textContent).not.toMatch(URL_LIKE)
    expect((h.client.shape(h.options()).getStatus().error as FetchError).url).toMatch(/\/v1\/shape\?/)
  })
})
