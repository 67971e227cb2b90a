/**
 * What both pages show around the list: the navigation and, after a form posted without JavaScript was refused, the
 * route's message (it redirects back with `?error=…`).
 */
import type { ReactNode } from 'react'

/** Props of {@link PageChrome}. */
export interface PageChromeProps {
  title: string
  lede: ReactNode
  error: string | undefined
  shapeUrl: string
  children: ReactNode
}

/** Heading, navigation, the refused write's message, the page, the shape URL. */
export function PageChrome({ title, lede, error, shapeUrl, children }: PageChromeProps) {
  return (
    <main>
      <nav>
        <a href="/">Prefetched</a>
        <a href="/streaming">Streamed</a>
      </nav>
      <h1>{title}</h1>
      <p className="lede">{lede}</p>
      {error !== undefined && (
        <p className="notice error" role="alert" data-testid="form-error">
          {error}
        </p>
      )}
      {children}
      <footer>
        Shape: <code>{shapeUrl}?table=items</code>
      </footer>
    </main>
  )
}

/** The `error` search param, when there is exactly one. */
export function errorParam(params: Record<string, string | string[] | undefined>): string | undefined {
  const value = params['error']
  return typeof value === 'string' ? value.slice(0, 500) : undefined
}
