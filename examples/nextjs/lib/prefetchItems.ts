/**
 * Server-side rendering of the items shape: sync it on the server, hand the result to the browser.
 *
 * Invariants:
 * - One `ShapeClient` per call (so per request), disposed before returning: no rows or streams outlive the
 *   request or reach another visitor.
 * - The server's client reaches the shape handler in-process, not over HTTP: the absolute URL (from the request's
 *   `Host`) only names the shape the browser will fetch, so the server never connects to a host a request chose.
 * - A failed or slow prefetch degrades to client rendering (the browser then loads the shape itself); it never
 *   fails the page.
 */
import 'server-only'
import { ShapeClient, dehydrate, prefetchShape } from 'live-shapes/core'
import type { DehydratedState } from 'live-shapes/core'
import { database } from './database'
import { itemsShape } from './items'

const PREFETCH_TIMEOUT_MS = 5_000

/**
 * The items shape synced to its first up-to-date and dehydrated, or `undefined` when that failed: one client per
 * call, disposed before returning; in-process, never over HTTP; a failure never fails the page.
 *
 * @example
 * const state = await prefetchItems('http://127.0.0.1:3100/v1/shape')
 */
export async function prefetchItems(shapeUrl: string): Promise<DehydratedState | undefined> {
  const { handler } = await database()
  const client = new ShapeClient({ fetch: (url, init) => handler(new Request(url, init)), visibility: null })
  try {
    await prefetchShape(client, itemsShape(shapeUrl), { signal: AbortSignal.timeout(PREFETCH_TIMEOUT_MS) })
    return dehydrate(client)
  } catch (error) {
    console.error('live-shapes example: server prefetch failed, the browser will load the shape itself', error)
    return undefined
  } finally {
    client.dispose()
  }
}
