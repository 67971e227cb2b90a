/**
 * Our side of every scenario: live-shapes, loaded from the bench bundle of `src/` (`bench/.build/ours.mjs`, built by
 * `buildOurs.mjs` before any worker starts). Same contract as `theirs.mjs`.
 *
 * Prefers the public API (`ShapeClient` from the package entry); until the package entry exports it, falls back
 * to the core file that defines it. SSE needs a `LiveRunnerFactory`; `sseRunner()` finds it by its export name.
 */
import { fileURLToPath } from 'node:url'

const bundle = await import(new URL('../.build/ours.mjs', import.meta.url).href)
const pkg = bundle.pkg

export const name = 'ours'
export const version = 'live-shapes (working tree)'

const ShapeClient = pkg.ShapeClient ?? bundle.ShapeClient

/** The SSE live-runner factory, wherever it is exported from; undefined while it does not exist. */
function sseRunner() {
  for (const source of [pkg, bundle.sseTransport ?? {}]) {
    for (const [exportName, value] of Object.entries(source)) {
      if (typeof value === 'function' && /^(create)?Sse(Live)?Runner(Factory)?$|^sseLiveRunner$|^createSseLiveRunner$/i.test(exportName)) return value
    }
  }
  return undefined
}

export const available = typeof ShapeClient === 'function'

export async function openShape({ url, table, fetch, liveSse = false }) {
  if (!available) throw new Error('ours: ShapeClient is not built yet')
  const liveRunner = liveSse ? sseRunner() : undefined
  if (liveSse && !liveRunner) throw new Error('ours: no SSE live runner exported yet')
  const client = new ShapeClient({ fetch, visibility: null, gracePeriodMs: 0, ...(liveRunner ? { liveRunner, liveSse: true } : {}) })
  const shape = client.shape({ url: `${url}/v1/shape`, params: { table }, liveSse })
  const release = shape.retain()
  await shape.whenUpToDate()
  return {
    size: () => shape.getSnapshot().rows.size,
    getRow: (key) => shape.getRow(key),
    onChange: (listener) => shape.subscribe(listener),
    close: () => {
      release()
      client.dispose()
    },
  }
}

/**
 * React bindings for `scenarios/reactUpdate.mjs`: `useShape` (with and without a selector) and `useShapeRow`,
 * under a `ShapeClientProvider` whose client already holds the synced shape.
 */
export async function reactBindings({ url, table, fetch }) {
  const React = await import('react')
  const client = new ShapeClient({ fetch, visibility: null })
  const options = { url: `${url}/v1/shape`, params: { table } }
  const shape = client.shape(options)
  const release = shape.retain()
  await shape.whenUpToDate()
  return {
    keys: () => [...shape.getSnapshot().keys],
    getRow: (key) => shape.getRow(key),
    Wrapper: ({ children }) => React.createElement(pkg.ShapeClientProvider, { client }, children),
    useRows: () => pkg.useShape(options).data,
    useSelectedRow: (key) => {
      const selector = React.useCallback((result) => result.rows.get(key), [key])
      return pkg.useShape({ ...options, selector })
    },
    useRow: (key) => pkg.useShapeRow(shape, key),
    close: () => {
      release()
      client.dispose()
    },
  }
}

export const bundlePath = fileURLToPath(new URL('../.build/ours.mjs', import.meta.url))
