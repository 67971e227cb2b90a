/**
 * The incumbent side of every scenario: `@electric-sql/client` (`ShapeStream` + `Shape`) and
 * `@electric-sql/react` (`useShape`), used the way their docs show.
 *
 * Contract shared with `ours.mjs` (the runner only talks to this shape):
 * - `name`, `version`
 * - `openShape({ url, table, fetch, liveSse }) => Promise<Materialized>` resolving at the first up-to-date, where
 *   `Materialized = { size(): number, getRow(key): object | undefined, onChange(listener): () => void, close() }`
 *   and `onChange` fires after each published batch.
 * - `react(React)`: `{ usePlainList, useRow(key) ... }` hooks, see `scenarios/reactUpdate.mjs`.
 */
import { createRequire } from 'node:module'
import { Shape, ShapeStream } from '@electric-sql/client'

const require = createRequire(import.meta.url)

export const name = 'theirs'
export const version = `@electric-sql/client ${require('@electric-sql/client/package.json').version}, @electric-sql/react ${require('@electric-sql/react/package.json').version}`

/** `readSnapshot` is accepted for symmetry: `Shape` builds the array of all rows for every subscriber anyway. */
export async function openShape({ url, table, fetch, liveSse = false, readSnapshot: _readSnapshot = true }) {
  const controller = new AbortController()
  const stream = new ShapeStream({
    url: `${url}/v1/shape`,
    params: { table },
    fetchClient: fetch,
    liveSse,
    signal: controller.signal,
  })
  const shape = new Shape(stream)
  await shape.value
  return {
    size: () => shape.currentValue.size,
    getRow: (key) => shape.currentValue.get(key),
    onChange: (listener) => shape.subscribe(() => listener()),
    close: () => {
      shape.unsubscribeAll()
      controller.abort()
    },
  }
}

/**
 * React bindings for `scenarios/reactUpdate.mjs`. `@electric-sql/react` has one hook, `useShape(options)` with an
 * optional `selector`; selectors here are memoized per key (their hook re-subscribes when the selector changes)
 * and read the row from the shape's map, the cheapest way it offers.
 */
export async function reactBindings({ url, table, fetch }) {
  const { useShape, getShapeStream, getShape } = await import('@electric-sql/react')
  const React = await import('react')
  const controller = new AbortController()
  const options = { url: `${url}/v1/shape`, params: { table }, fetchClient: fetch, signal: controller.signal, warnOnHttp: false }
  const shape = getShape(getShapeStream(options))
  await shape.value
  return {
    keys: () => [...shape.currentValue.keys()],
    getRow: (key) => shape.currentValue.get(key),
    Wrapper: ({ children }) => children,
    useRows: () => useShape(options).data,
    useSelectedRow: (key) => {
      const selector = React.useCallback((result) => result.shape.currentValue.get(key), [key])
      return useShape({ ...options, selector })
    },
    useRow: (key) => {
      const selector = React.useCallback((result) => result.shape.currentValue.get(key), [key])
      return useShape({ ...options, selector })
    },
    close: () => controller.abort(),
  }
}
