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

export async function openShape({ url, table, fetch, liveSse = false }) {
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
 * React bindings for the render scenario. Each returns what the list needs; `key`s are shape keys.
 * `@electric-sql/react` has one hook, `useShape(options)` with an optional `selector`.
 */
export async function reactBindings({ url, table, fetch }) {
  const { useShape, getShapeStream, getShape } = await import('@electric-sql/react')
  const React = await import('react')
  const controller = new AbortController()
  const options = { url: `${url}/v1/shape`, params: { table }, fetchClient: fetch, signal: controller.signal }
  const shape = getShape(getShapeStream(options))
  await shape.value
  const keyOf = (row) => `"public"."${table}"/"${row.id}"`
  return {
    keys: () => [...shape.currentValue.keys()],
    /** All rows, as `useShape` returns them. */
    useRows: () => useShape(options).data,
    keyOf,
    /** One row by key through a memoized selector (the cheapest way `useShape` offers). */
    useRow: (key) => {
      const selector = React.useCallback((result) => result.shape.currentValue.get(key), [key])
      return useShape({ ...options, selector })
    },
    close: () => controller.abort(),
  }
}
