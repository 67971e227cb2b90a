/**
 * A module Web Worker that runs a whole live shape by itself: the in-process dev server (`createTestShapeServer`,
 * memory source, no `where` so libpg-query is never loaded) and a `ShapeClient({ liveSse: true })` with the core's
 * SSE runner, all on the worker's own globals (nothing shimmed: no `document`, no `window`, default visibility).
 * The page drives it by `postMessage` and sees what happened through messages.
 *
 * Rules:
 * - The first message sent is `environment`, describing the worker's globals as the code running here sees them.
 * - Every status change, published snapshot, live response (URL, status, content type) and batch delivered by the
 *   SSE runner is posted as it happens, in order.
 * - `dispose` disposes the client, then closes the server, then answers `disposed`: nothing keeps running.
 */
import type { LiveRunnerFactory } from '../../../src/core/liveRunner'
import { isChangeMessage } from '../../../src/core/protocol'
import { ShapeClient } from '../../../src/core/shapeClient'
import type { ShapeStatus } from '../../../src/core/shapeStatus'
import { sseRunner } from '../../../src/core/sseRunner'
import { createTestShapeServer } from '../../../src/testing/createTestShapeServer'

/** A row of the worker's `items` table. */
export interface WorkerItem {
  id: number
  title: string
}

/** Page → worker. */
export type ToWorker = { type: 'insert'; item: WorkerItem } | { type: 'dispose' }

/** Worker → page: `environment` first, then every observation, then `disposed` once nothing runs. */
export type FromWorker =
  | {
      type: 'environment'
      hasDocument: boolean
      hasWindow: boolean
      globalName: string
      hasFetch: boolean
    }
  | { type: 'status'; status: Pick<ShapeStatus, 'phase' | 'transport' | 'fallbackReason' | 'isUpToDate'> }
  | { type: 'snapshot'; rows: WorkerItem[] }
  | { type: 'response'; url: string; status: number; contentType: string | null }
  | { type: 'batch'; changes: string[] }
  | { type: 'disposed' }
  | { type: 'failed'; message: string }

const post = (message: FromWorker): void => globalThis.postMessage(message)

post({
  type: 'environment',
  hasDocument: typeof document !== 'undefined',
  hasWindow: typeof window !== 'undefined',
  globalName: globalThis.constructor.name,
  hasFetch: typeof fetch === 'function',
})

const server = createTestShapeServer({
  tables: [
    {
      name: 'items',
      columns: [
        { name: 'id', type: 'int4', primaryKey: true },
        { name: 'title', type: 'text' },
      ],
      rows: [{ id: 1, title: 'seed' }],
    },
  ],
})

// The core's SSE runner, observed: every batch it hands the stream is reported.
const observedSse: LiveRunnerFactory = (context) => {
  const runner = sseRunner(context)
  return {
    ...runner,
    run: (request, sink) =>
      runner.run(request, {
        onOpen: (meta) => sink.onOpen(meta),
        onBatch: (batch) => {
          post({ type: 'batch', changes: batch.messages.filter(isChangeMessage).map((m) => `${m.headers.operation} ${m.key}`) })
          sink.onBatch(batch)
        },
      }),
  }
}

const serverFetch = server.fetch
const client = new ShapeClient({
  liveSse: true,
  liveRunner: observedSse,
  fetch: async (input, init) => {
    const response = await serverFetch(input, init)
    const url = String(input)
    if (new URL(url).searchParams.get('live') === 'true') {
      post({ type: 'response', url, status: response.status, contentType: response.headers.get('content-type') })
    }
    return response
  },
})
const shape = client.shape<WorkerItem>({ url: server.url, params: { table: 'items' } })
shape.subscribeStatus(() => {
  const { phase, transport, fallbackReason, isUpToDate } = shape.getStatus()
  post({ type: 'status', status: { phase, transport, fallbackReason, isUpToDate } })
})
shape.subscribe(() => post({ type: 'snapshot', rows: [...shape.getSnapshot().data] }))
const release = shape.retain()
shape.whenUpToDate().catch((error: unknown) => post({ type: 'failed', message: String(error) }))

globalThis.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const message = event.data
  if (message.type === 'insert') {
    server.source.insert('items', { ...message.item })
    return
  }
  release()
  client.dispose()
  void server.close().then(() => post({ type: 'disposed' }))
})
