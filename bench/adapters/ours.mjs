/**
 * Our side of every scenario: live-shapes, loaded from the bench bundle of `src/` (`bench/.build/ours.mjs`, built by
 * `buildOurs.mjs` before any worker starts). Same contract as `theirs.mjs`.
 *
 * Uses the public API only: `ShapeClient` (whose default live runner is SSE when `liveSse` is on), `useShape`,
 * `useShapeRow`, `ShapeClientProvider`. A subscriber reads the published snapshot's `rows` and `data` on every
 * change, as `useShape`'s result does (and as `@electric-sql/client`'s `Shape` hands its subscribers all rows); `readSnapshot: false` makes a
 * subscriber that only reads single rows (`getRow`), to isolate the store's own per-transaction cost.
 */
import { fileURLToPath } from 'node:url'

// `BENCH_OURS_BUNDLE=NAME` (by hand, A/B runs): another bundle built by `node bench/buildOurs.mjs ROOT NAME`.
const bundle = await import(new URL(`../.build/${process.env.BENCH_OURS_BUNDLE ?? 'ours'}.mjs`, import.meta.url).href)
const pkg = bundle.pkg

export const name = 'ours'
export const version = 'live-shapes (working tree)'

const ShapeClient = pkg.ShapeClient

export const available = typeof ShapeClient === 'function'

/** A yielder that is never due (the `neverYield` of `src/core/yielder.ts`): the sync reads each body in one go. */
const NEVER_YIELD = { start() {}, due: () => false, yield: () => Promise.resolve() }

export async function openShape({ url, table, fetch, liveSse = false, readSnapshot = true, lazyJson = false, noYield = false }) {
  if (!available) throw new Error('ours: ShapeClient is not built yet')
  const client = new ShapeClient({ fetch, visibility: null, gracePeriodMs: 0, ...(noYield ? { yielder: () => NEVER_YIELD } : {}) })
  const shape = client.shape({ url: `${url}/v1/shape`, params: { table }, liveSse, lazyJson })
  const release = shape.retain()
  await shape.whenUpToDate()
  return {
    size: () => shape.getSnapshot().rows.size,
    getRow: (key) => shape.getRow(key),
    onChange: (listener) =>
      shape.subscribe(() => {
        if (readSnapshot) {
          const snapshot = shape.getSnapshot()
          void snapshot.rows
          void snapshot.data
        }
        listener()
      }),
    close: () => {
      release()
      client.dispose()
    },
  }
}

/**
 * React bindings for `scenarios/reactUpdate.mjs`: `useShape` (with and without a selector), `useShapeRow` and
 * `ShapeRowList`, under a `ShapeClientProvider` whose client already holds the synced shape.
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
    /** `shape.mutate`: an optimistic write confirmed by its txid (scenario `write`). */
    mutate: (options) => shape.mutate(options),
    /** `<ShapeRowList shape renderRow />` over the synced shape; `renderRow` must be stable (the caller memoizes it). */
    RowList: ({ renderRow, groupSize }) => React.createElement(pkg.ShapeRowList, groupSize === undefined ? { shape, renderRow } : { shape, renderRow, groupSize }),
    close: () => {
      release()
      client.dispose()
    },
  }
}

export const bundlePath = fileURLToPath(new URL('../.build/ours.mjs', import.meta.url))
