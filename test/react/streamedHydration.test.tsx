/**
 * Streamed SSR: `useSuspenseShape` under `StreamedHydration`, rendered with `renderToReadableStream` and an
 * `insertHTML` hook that behaves like Next's `useServerInsertedHTML` (callbacks called before each flushed chunk),
 * then hydrated in jsdom the way a browser would: the scripts run in document order, then React hydrates.
 */
import { describe, it, expect, afterEach, onTestFinished, vi } from 'vitest'
import { Fragment, Suspense } from 'react'
import { Writable } from 'node:stream'
import type { ReactNode } from 'react'
import { renderToPipeableStream, renderToStaticMarkup } from 'react-dom/server'
import { hydrateRoot } from 'react-dom/client'
import type { Root } from 'react-dom/client'
import { act, screen } from '@testing-library/react'
import { ShapeClient } from '../../src/core/index'
import type { FetchLike } from '../../src/core/index'
import { ShapeClientProvider, StreamedHydration, useShapeStatus, useSuspenseShape } from '../../src/react/index'
import { STREAMED_HYDRATION_QUEUE } from '../../src/react/StreamedHydration'
import { createTestShapeServer } from '../../src/testing/index'
import type { TestShapeServer } from '../../src/testing/index'
import { ITEM_COLUMNS } from './support/harness'
import type { Item } from './support/harness'

const HOSTILE = '</script><script>alert(1)</script>\u2028'

let server: TestShapeServer | undefined
let root: Root | undefined
const clients: ShapeClient[] = []
afterEach(async () => {
  act(() => root?.unmount())
  root = undefined
  for (const client of clients.splice(0)) client.dispose()
  document.body.innerHTML = ''
  delete (globalThis as Record<string, unknown>)[STREAMED_HYDRATION_QUEUE]
  vi.restoreAllMocks()
  await server?.close()
  server = undefined
})

let tableCounter = 0
function startServer(): { server: TestShapeServer; table: string } {
  tableCounter += 1
  const table = `streamed_${tableCounter}`
  server = createTestShapeServer({
    tables: [
      {
        name: table,
        columns: ITEM_COLUMNS,
        rows: [
          { id: 1, title: 'item 1', done: false },
          { id: 2, title: HOSTILE, done: true },
        ],
      },
    ],
    longPollTimeoutMs: 60_000,
  })
  return { server, table }
}

function List({ url, table }: { url: string; table: string }) {
  const { data, isUpToDate, shape } = useSuspenseShape<Item>({ url, params: { table } })
  // A badge over the same shape: the server's stream really ran (live), the browser's has not started yet.
  const status = useShapeStatus(shape)
  return (
    <ul data-testid="list" data-up-to-date={String(isUpToDate)} data-phase={status.phase}>
      {data.map((row) => (
        <li key={row.id}>{row.title}</li>
      ))}
    </ul>
  )
}

function App(props: { client: ShapeClient; insertHTML: (callback: () => ReactNode) => void; url: string; table: string }) {
  return (
    <ShapeClientProvider client={props.client}>
      <StreamedHydration insertHTML={props.insertHTML}>
        <h1>Items</h1>
        <Suspense fallback={<p>loading</p>}>
          <List url={props.url} table={props.table} />
        </Suspense>
      </StreamedHydration>
    </ShapeClientProvider>
  )
}

/**
 * One streamed server render through `renderToPipeableStream` (React 18 and 19), with an `insertHTML` hook that does
 * what Next's `useServerInsertedHTML` does, reduced: callbacks registered during render, called before each flush
 * (React corks the destination around a flush, so one flush arrives as one `writev`). The server's shape requests
 * wait until the shell was written, so the shell (with the fallback) goes out before the shape has any rows, as on
 * a real network. Returns what each flush wrote.
 */
async function streamServerRender(test: { server: TestShapeServer; table: string }): Promise<string[]> {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const fetch: FetchLike = (input, init) => gate.then(() => test.server.fetch(input, init))
  const serverClient = new ShapeClient({ fetch, visibility: null })
  clients.push(serverClient)
  const callbacks: Array<() => ReactNode> = []
  const insertHTML = (callback: () => ReactNode): void => {
    callbacks.push(callback)
  }
  const flushes: string[] = []
  const flush = (parts: readonly Buffer[]): void => {
    const inserted = renderToStaticMarkup(<>{callbacks.map((callback, index) => <Fragment key={index}>{callback()}</Fragment>)}</>)
    flushes.push(inserted + Buffer.concat(parts).toString('utf8'))
    release()
  }
  await new Promise<void>((resolve, reject) => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        flush([chunk])
        callback()
      },
      writev(chunks, callback) {
        flush(chunks.map((entry) => entry.chunk as Buffer))
        callback()
      },
      final(callback) {
        resolve()
        callback()
      },
    })
    // A whole document, as a framework renders it: React flushes the shell of a document before its boundaries resolve.
    const { pipe } = renderToPipeableStream(
      <html>
        <body>
          <div id="root">
            <App client={serverClient} insertHTML={insertHTML} url={test.server.url} table={test.table} />
          </div>
        </body>
      </html>,
      { onShellReady: () => pipe(sink), onShellError: reject, onError: reject },
    )
  })
  return flushes
}

/**
 * Puts the streamed body into the document and runs its scripts in document order, as the parser would. React's
 * reveal of a completed boundary waits for an animation frame: here the frame comes at once (its start-time probe,
 * the `_R_` script, is not run, so React reveals on the next frame instead of after a timeout).
 */
function loadStreamedPage(html: string): HTMLElement {
  // React 18 closes the document in the shell and streams the rest after it, which a browser's parser puts in the body.
  const body = html.slice(html.indexOf('<body>') + '<body>'.length).replace('</body></html>', '')
  document.body.innerHTML = body
  // React's reveal runtime keeps its start time in a global: a previous page's would delay this one's reveal.
  for (const name of ['$RT', '$RB', '$RC', '$RV']) delete (globalThis as Record<string, unknown>)[name]
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
    callback(0)
    return 0
  })
  for (const script of Array.from(document.querySelectorAll('script'))) {
    if (script.id !== '_R_') new Function(script.textContent ?? '')()
  }
  vi.unstubAllGlobals()
  return document.getElementById('root')!
}

/** Appends HTML that arrived later in the stream to the body and runs its scripts, as the parser would. */
function appendStreamed(html: string): void {
  const holder = document.createElement('div')
  holder.innerHTML = html.replace('</body></html>', '')
  const scripts = Array.from(holder.querySelectorAll('script'))
  document.body.append(...Array.from(holder.childNodes))
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
    callback(0)
    return 0
  })
  for (const script of scripts) new Function(script.textContent ?? '')()
  vi.unstubAllGlobals()
}

function browserClient(target: TestShapeServer) {
  const urls: URL[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const fetch: FetchLike = (input, init) => {
    urls.push(new URL(input))
    for (const waiter of waiters.filter((w) => urls.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
    return target.fetch(input, init)
  }
  const client = new ShapeClient({ fetch, visibility: null })
  clients.push(client)
  const requests = (count: number): Promise<void> =>
    urls.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))
  return { client, urls, requests }
}

const noInsert = (): void => {}

/**
 * console.error, minus React's "multiple renderers" warning: this test runs the server renderer and the browser
 * renderer in one process over the same context objects, which no real page does.
 */
function spyOnConsoleError() {
  const errors: unknown[][] = []
  const original = console.error.bind(console)
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^(Warning: )?Detected multiple renderers/.test(args[0])) return
    errors.push(args)
    original(...args)
  })
  return errors
}

describe('StreamedHydration with useSuspenseShape', () => {
  it('streams the fallback first, then the state script before the rows it rendered, escaped for <script>', async () => {
    const test = startServer()
    const chunks = await streamServerRender(test)
    expect(chunks[0]).toContain('loading')
    expect(chunks[0]).not.toContain(STREAMED_HYDRATION_QUEUE)
    const html = chunks.join('')
    const script = html.indexOf(STREAMED_HYDRATION_QUEUE)
    expect(script).toBeGreaterThan(0)
    expect(html.indexOf('item 1')).toBeGreaterThan(script)
    expect(html.match(new RegExp(STREAMED_HYDRATION_QUEUE + '=', 'g'))).toHaveLength(1)
    // The hostile title appears only escaped inside the state script: the script is not closed early.
    const scriptText = html.slice(script, html.indexOf('</script>', script))
    expect(scriptText).toContain('\\u003c/script\\u003e')
    expect(scriptText).not.toContain('\u2028')
  })

  it('hydrates the streamed rows without a mismatch, resumes live from the server offset, and follows changes', async () => {
    const test = startServer()
    const html = (await streamServerRender(test)).join('')
    const container = loadStreamedPage(html)
    const queued = (globalThis as Record<string, unknown>)[STREAMED_HYDRATION_QUEUE] as Array<[string, { shapes: Array<{ position: { handle: string; offset: string } }> }]>
    expect(queued).toHaveLength(1)
    const position = queued[0]![1].shapes[0]!.position
    expect(screen.getByText(HOSTILE, { normalizer: (text) => text })).toBeTruthy()

    const browser = browserClient(test.server)
    const consoleErrors = spyOnConsoleError()
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} insertHTML={noInsert} url={test.server.url} table={test.table} />, {
        onRecoverableError: (error) => recoverable.push(error),
      })
    })
    expect(recoverable).toEqual([])
    expect(consoleErrors).toEqual([])
    expect(screen.getByTestId('list').dataset['upToDate']).toBe('true')
    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual(['item 1', HOSTILE])
    expect(queued).toHaveLength(0)

    await browser.requests(1)
    const first = browser.urls[0]!.searchParams
    expect(first.get('live')).toBe('true')
    expect(first.get('handle')).toBe(position.handle)
    expect(first.get('offset')).toBe(position.offset)

    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    expect(browser.urls.every((url) => url.searchParams.get('offset') !== '-1')).toBe(true)
    expect(screen.getByTestId('list').dataset['phase']).toBe('live')
    expect(consoleErrors).toEqual([])
  })

  it('without StreamedHydration the browser has to fetch the snapshot again (what it prevents)', async () => {
    const test = startServer()
    const html = (await streamServerRender(test)).join('')
    const container = loadStreamedPage(html)
    delete (globalThis as Record<string, unknown>)[STREAMED_HYDRATION_QUEUE]
    const browser = browserClient(test.server)
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} insertHTML={noInsert} url={test.server.url} table={test.table} />, {
        onRecoverableError: () => {},
      })
    })
    await browser.requests(1)
    expect(browser.urls[0]!.searchParams.get('offset')).toBe('-1')
  })

  it('leaves the states of another boundary on the page in the queue', async () => {
    const test = startServer()
    const html = (await streamServerRender(test)).join('')
    const container = loadStreamedPage(html)
    const queue = (globalThis as Record<string, unknown>)[STREAMED_HYDRATION_QUEUE] as unknown[]
    const foreign = ['another boundary', { version: 1, shapes: [] }]
    queue.unshift(foreign)
    const browser = browserClient(test.server)
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} insertHTML={noInsert} url={test.server.url} table={test.table} />)
    })
    expect(queue).toEqual([foreign])
    expect(screen.getAllByRole('listitem')).toHaveLength(2)
  })

  it('hydrates a boundary whose rows arrive after the shell was hydrated, without a snapshot request', async () => {
    const test = startServer()
    const [shell, ...later] = await streamServerRender(test)
    expect(later.join('')).toContain(STREAMED_HYDRATION_QUEUE)
    const container = loadStreamedPage(shell!)
    // The document is still loading while the stream is open (React 19 client-renders a boundary still pending in a
    // document that finished loading, since no more HTML can come).
    Object.defineProperty(document, 'readyState', { configurable: true, get: () => 'loading' })
    onTestFinished(() => {
      delete (document as unknown as Record<string, unknown>)['readyState']
    })
    const browser = browserClient(test.server)
    const consoleErrors = spyOnConsoleError()
    const recoverable: unknown[] = []
    await act(async () => {
      root = hydrateRoot(container, <App client={browser.client} insertHTML={noInsert} url={test.server.url} table={test.table} />, {
        onRecoverableError: (error) => recoverable.push(error),
      })
    })
    expect(screen.getByText('loading')).toBeTruthy()
    expect(browser.client.size).toBe(0)

    await act(async () => {
      appendStreamed(later.join(''))
      delete (document as unknown as Record<string, unknown>)['readyState']
    })
    await screen.findByText('item 1')
    expect(recoverable).toEqual([])
    expect(consoleErrors).toEqual([])
    await browser.requests(1)
    expect(browser.urls[0]!.searchParams.get('live')).toBe('true')
    act(() => test.server.source.insert(test.table, { id: 3, title: 'item 3', done: false }))
    await screen.findByText('item 3')
    expect(browser.urls.every((url) => url.searchParams.get('offset') !== '-1')).toBe(true)
  })
})
