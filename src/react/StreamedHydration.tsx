/**
 * Streamed hydration: what `useSuspenseShape` synced while a page streams from the server reaches the browser in the
 * same HTML stream, so the browser hydrates the rows the server rendered and resumes live from the server's handle
 * and offset, with no `offset=-1` request. No prefetch, no `HydrationBoundary`: the suspended components are the
 * prefetch.
 *
 * Invariants:
 * - The server emits a shape once, as a `<script>` inserted (through the framework's `insertHTML` hook, e.g. Next's
 *   `useServerInsertedHTML`) before the HTML that renders it: the browser runs the script before React can hydrate
 *   that HTML. The script only pushes the dehydrated state onto a global queue; its JSON is escaped for `<script>`
 *   by `serializeDehydratedState` (hydration.ts), so rows cannot close the element.
 * - What a shape's script carries is captured when a `useSuspenseShape` below rendered it (the rows in that HTML),
 *   not when the HTML is flushed: the server's stream may move on in between, and the browser must hydrate exactly
 *   what the server rendered. Shapes that became up to date without such a render are captured at the flush.
 * - In the browser the queue is drained synchronously during render, by this component and by every
 *   `useSuspenseShape` below it, before the hook looks its shape up: a suspended component that hydrates finds its
 *   shape seeded, so its first request is the live one. Entries are taken by the id of the boundary that wrote them
 *   (`useId`, the same on server and browser), so two boundaries on a page never take each other's shapes.
 * - Draining during render only creates shapes the client does not have (see HydrationBoundary.tsx: shapes the client
 *   already has are hydrated in an effect): shapes that already exist are hydrated after the render, where core keeps
 *   newer data and leaves a running stream alone.
 * - No module state holds rows: the server side lives in this component's state, so with one `ShapeClient` per
 *   request (a client component's `useState`) nothing is shared between requests.
 */
import { createContext, useContext, useId, useMemo, useRef } from 'react'
import type { ReactNode } from 'react'
import { dehydrate, hydrate, serializeDehydratedState } from '../core/index'
import type { DehydratedShape, DehydrateOptions, DehydratedState, HydrateOptions, Shape, ShapeClient } from '../core/index'
import { useShapeClient } from './useShapeClient'

/** The global the streamed scripts push `[boundaryId, state]` entries onto. */
export const STREAMED_HYDRATION_QUEUE = '__liveShapesStreamedHydration'

type QueueEntry = [id: string, state: DehydratedState]

/** What `useSuspenseShape` reaches through context (internal). */
export interface StreamedHydrationContextValue {
  /** Browser: hydrates the queued states of this boundary. */
  drain(): void
  /** Server: records every up-to-date shape not captured yet, as it is now. */
  captureRendered(): void
}

/** @internal Read by `useSuspenseShape`. */
export const StreamedHydrationContext = createContext<StreamedHydrationContextValue | null>(null)

/**
 * Props of `StreamedHydration`.
 * @example
 * const props: StreamedHydrationProps = { insertHTML: useServerInsertedHTML, children: <Todos /> }
 */
export interface StreamedHydrationProps {
  /**
   * The framework's hook that inserts HTML into the server's stream before each flushed chunk: it is called during
   * every render of this component with a callback returning React nodes, and calls that callback on each flush.
   * In Next.js (App Router) pass `useServerInsertedHTML` from `next/navigation`. In the browser it is called too and
   * may do nothing.
   */
  insertHTML: (callback: () => ReactNode) => void
  /** Server: which up-to-date shapes to stream and how to encode values (`shouldDehydrateShape`, `serializeValue`). */
  dehydrateOptions?: DehydrateOptions
  /** Browser: `deserializeValue` and `shapeOptions` (to re-attach headers, parser, columnMapper… by identity). */
  hydrateOptions?: Omit<HydrateOptions, 'only'>
  /** A CSP nonce for the inserted scripts. */
  nonce?: string | undefined
  children?: ReactNode
}

interface ServerSide {
  readonly captured: WeakSet<Shape<unknown>>
  pending: DehydratedShape[]
  flushed: boolean
}

type QueueHolder = { [STREAMED_HYDRATION_QUEUE]?: QueueEntry[] }

/**
 * Streams the shapes that `useSuspenseShape` syncs during server rendering to the browser and hydrates them there
 * before the suspended components hydrate (see the invariants at the top of this file). Put it inside the
 * `ShapeClientProvider`, around the `<Suspense>` boundaries. Use one `ShapeClient` per request on the server, with a
 * `fetch` that reaches the shape endpoint from the server. A component that looks a shape up outside the suspended
 * tree (above the `<Suspense>`) before its rows arrived creates it empty in the browser, and it then loads from
 * scratch: render such components inside the boundary, below the `useSuspenseShape` call.
 *
 * @example
 * // app/providers.tsx (Next.js App Router)
 * 'use client'
 * import { useServerInsertedHTML } from 'next/navigation'
 * export function Providers({ children }: { children: ReactNode }) {
 *   const [client] = useState(() => new ShapeClient()) // per request on the server, per tab in the browser
 *   return (
 *     <ShapeClientProvider client={client}>
 *       <StreamedHydration insertHTML={useServerInsertedHTML}>{children}</StreamedHydration>
 *     </ShapeClientProvider>
 *   )
 * }
 * // any component below, under <Suspense>: no prefetch needed
 * const { data } = useSuspenseShape<Todo>({ url: SHAPE_URL, params: { table: 'todos' } })
 */
export function StreamedHydration({ insertHTML, dehydrateOptions, hydrateOptions, nonce, children }: StreamedHydrationProps): ReactNode {
  const client = useShapeClient()
  const id = useId()
  const server = useRef<ServerSide | null>(null)
  server.current ??= { captured: new WeakSet(), pending: [], flushed: false }
  const side = server.current
  const latest = useRef({ dehydrateOptions, hydrateOptions })
  latest.current = { dehydrateOptions, hydrateOptions }

  const value = useMemo<StreamedHydrationContextValue>(
    () => ({
      drain: () => drainQueue(client, id, latest.current.hydrateOptions),
      captureRendered: () => {
        if (!side.flushed && typeof window !== 'undefined') return
        side.pending.push(...capture(client, side, latest.current.dehydrateOptions))
      },
    }),
    [client, id, side],
  )

  insertHTML(() => {
    side.flushed = true
    const shapes = [...side.pending.splice(0), ...capture(client, side, latest.current.dehydrateOptions)]
    if (shapes.length === 0) return null
    const state: DehydratedState = { version: 1, shapes }
    const script = `(self.${STREAMED_HYDRATION_QUEUE}=self.${STREAMED_HYDRATION_QUEUE}||[]).push([${escapeForScript(JSON.stringify(id))},${serializeDehydratedState(state)}])`
    return <script nonce={nonce} dangerouslySetInnerHTML={{ __html: script }} />
  })

  value.drain()
  return <StreamedHydrationContext.Provider value={value}>{children}</StreamedHydrationContext.Provider>
}

/** The up-to-date shapes of `client` not captured yet, dehydrated now, and marked captured. */
function capture(client: ShapeClient, side: ServerSide, options: DehydrateOptions | undefined): DehydratedShape[] {
  const { shapes } = dehydrate(client, {
    ...options,
    shouldDehydrateShape: (shape) => {
      if (side.captured.has(shape)) return false
      if (options?.shouldDehydrateShape && !options.shouldDehydrateShape(shape)) return false
      side.captured.add(shape)
      return true
    },
  })
  return shapes
}

function drainQueue(client: ShapeClient, id: string, options: Omit<HydrateOptions, 'only'> | undefined): void {
  if (typeof window === 'undefined') return
  const queue = (globalThis as QueueHolder)[STREAMED_HYDRATION_QUEUE]
  if (queue === undefined || queue.length === 0) return
  const mine: DehydratedState[] = []
  for (let index = 0; index < queue.length; ) {
    const entry = queue[index]!
    if (entry[0] === id) {
      mine.push(entry[1])
      queue.splice(index, 1)
    } else {
      index += 1
    }
  }
  for (const state of mine) {
    try {
      hydrate(client, state, { ...options, only: 'new' })
    } catch (error) {
      // A state this page's own server wrote cannot be malformed unless options disagree; the components then load
      // their shapes themselves, which is slower but correct. Say why instead of failing the render.
      console.error('live-shapes: could not hydrate a streamed shape state', error)
      continue
    }
    queueMicrotask(() => {
      try {
        hydrate(client, state, { ...options, only: 'all' })
      } catch (error) {
        // The client may be gone by now (an abandoned render, an unmounted provider): nothing is left to update.
        console.error('live-shapes: could not hydrate a streamed shape state', error)
      }
    })
  }
}

function escapeForScript(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
