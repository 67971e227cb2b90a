/**
 * Puts a `ShapeClient` in context for the hooks below it.
 *
 * Invariants:
 * - The provider never creates or disposes a client: whoever creates one owns it. On a server that is one client
 *   per request (a client shared across requests would leak one user's rows into another's render).
 */
import { createContext } from 'react'
import type { ReactNode } from 'react'
import type { ShapeClient } from '../core/index'

/**
 * The client of the nearest `ShapeClientProvider`, `undefined` outside of one. Prefer `useShapeClient()`.
 * @example
 * const client = useContext(ShapeClientContext)
 */
export const ShapeClientContext = createContext<ShapeClient | undefined>(undefined)
ShapeClientContext.displayName = 'ShapeClientContext'

/**
 * Props of `ShapeClientProvider`.
 * @example
 * const props: ShapeClientProviderProps = { client: new ShapeClient(), children: <App /> }
 */
export interface ShapeClientProviderProps {
  /** The client every hook below uses: its registry, ref-counts, grace period and injected fetch/clock. */
  client: ShapeClient
  children?: ReactNode
}

/**
 * Makes `client` the client of every live-shapes hook below it.
 *
 * @example
 * const client = new ShapeClient()
 * createRoot(element).render(
 *   <ShapeClientProvider client={client}>
 *     <App />
 *   </ShapeClientProvider>,
 * )
 */
export function ShapeClientProvider({ client, children }: ShapeClientProviderProps): ReactNode {
  return <ShapeClientContext.Provider value={client}>{children}</ShapeClientContext.Provider>
}
