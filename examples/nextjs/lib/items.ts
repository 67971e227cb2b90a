/**
 * The one shape this app shows, defined once for the server (prefetch) and the browser (hooks).
 *
 * Invariant:
 * - Server and browser describe the shape with the same options, including the same absolute `url`, so the
 *   browser recognizes the shape the server rendered as its own and resumes it instead of starting over.
 */
import { shapeOptions } from 'live-shapes/core'
import type { ShapeOptions } from 'live-shapes/core'

/** A row of `items` as the client parses it (`int8` becomes a bigint, `jsonb` is parsed). */
export interface Item {
  id: bigint
  title: string
  priority: number
  done: boolean
  payload: { tags?: string[] } | null
}

/** Where the route handler in `app/v1/shape/route.ts` answers. */
export const SHAPE_PATH = '/v1/shape'

/**
 * The `items` shape served at `shapeUrl` (absolute: the server has no page URL to resolve a relative one against),
 * defined once with `shapeOptions` so `prefetchShape` on the server and `useShape` in the browser get the same options
 * and the `Item` row type (the invariant above). SSE is the live transport; the status badge shows when the client
 * falls back to long-polling.
 *
 * @example
 * const options = itemsShape('http://127.0.0.1:3100/v1/shape')
 */
export function itemsShape(shapeUrl: string): ShapeOptions<Item> {
  return shapeOptions<Item>({ url: shapeUrl, params: { table: 'items' }, liveSse: true })
}
