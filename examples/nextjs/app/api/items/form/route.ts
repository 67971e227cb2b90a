/**
 * `/api/items/form`: the same writes as `/api/items`, posted by the page's plain HTML forms when JavaScript has not
 * run (or is off). Answers 303 See Other back to the page the form was on, so the browser loads it again with GET
 * (a reload never re-posts); a refused write comes back as `?error=…`, which the page shows.
 *
 *   intent=add&title=…&priority=2 · intent=toggle&id=3 · intent=delete&id=3, plus returnTo=/ or /streaming
 */
import { ItemWriteError, deleteItem, insertItem, toggleItem } from '../../../../lib/itemWrites'

export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

/** Only the app's own pages: a form field must not turn this route into an open redirect. */
const PAGES = new Set(['/', '/streaming'])

export async function POST(request: Request): Promise<Response> {
  const form = await request.formData().catch(() => undefined)
  const field = (name: string): string | undefined => {
    const value = form?.get(name)
    return typeof value === 'string' ? value : undefined
  }
  const returnTo = PAGES.has(field('returnTo') ?? '') ? (field('returnTo') as string) : '/'
  const target = new URL(returnTo, request.url)
  try {
    const intent = field('intent')
    if (intent === 'add') await insertItem({ title: field('title'), priority: field('priority') })
    else if (intent === 'toggle') await toggleItem({ id: field('id') })
    else if (intent === 'delete') await deleteItem({ id: field('id') })
    else throw new ItemWriteError(400, '"intent" must be add, toggle or delete')
  } catch (error) {
    if (!(error instanceof ItemWriteError)) throw error
    target.searchParams.set('error', error.message)
  }
  // Relative Location: behind a proxy, request.url's host may not be the one the browser used.
  return new Response(null, { status: 303, headers: { location: `${target.pathname}${target.search}` } })
}
