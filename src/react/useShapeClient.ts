/**
 * The client the hooks use: the provider's, or in a browser without a provider a default one.
 *
 * Invariants:
 * - The default client exists only where there is a `window` with a `document` (a browser tab, jsdom). On a
 *   server there is no module-level client at all: hooks outside a provider throw, because a client shared by all
 *   requests would serve one user's rows to another.
 * - The default client is created on first use, never at import, so importing the package has no effect.
 */
import { useContext } from 'react'
import { ShapeClient } from '../core/index'
import { ShapeClientContext } from './ShapeClientProvider'

let defaultClient: ShapeClient | undefined

function isBrowser(): boolean {
  const scope = globalThis as { window?: unknown; document?: unknown }
  return typeof scope.window === 'object' && scope.window !== null && typeof scope.document === 'object'
}

/**
 * The client of the nearest `ShapeClientProvider`; in a browser without a provider, one default client per page
 *. Throws on a server when no provider is mounted.
 *
 * @example
 * const client = useShapeClient()
 * const shape = client.shape({ url, params: { table: 'todos' } })
 */
export function useShapeClient(): ShapeClient {
  return resolveShapeClient(useContext(ShapeClientContext))
}

/** The provider's client when there is one, else the default browser client; throws on a server. */
export function resolveShapeClient(provided: ShapeClient | undefined): ShapeClient {
  if (provided !== undefined) return provided
  if (!isBrowser()) {
    throw new Error(
      'live-shapes: no ShapeClientProvider above this component. On a server, create one ShapeClient per request ' +
        'and wrap the tree in <ShapeClientProvider client={client}>; a shared default client would mix users\' data.',
    )
  }
  defaultClient ??= new ShapeClient()
  return defaultClient
}

/**
 * Disposes the default browser client (if one was created) so the next hook outside a provider gets a fresh one.
 * For tests and for apps that log a user out without reloading the page.
 *
 * @example
 * afterEach(() => resetDefaultShapeClient())
 */
export function resetDefaultShapeClient(): void {
  defaultClient?.dispose()
  defaultClient = undefined
}
