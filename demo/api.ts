/**
 * The demo server's JSON API (`/api/*`), as the page calls it. Every call resolves to the server's answer or throws an
 * `Error` whose message is fit to show (the server's `message`, never a URL).
 */

/** A row of the demo's `items` table. */
export interface Item {
  id: number
  title: string
  priority: number
  done: boolean
}

/** What the demo server reports about its writer and outage. */
export interface DemoState {
  writer: { running: boolean; intervalMs: number; writes: number }
  outage: { active: boolean; until: number | null }
}

async function call<T>(path: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
  } catch {
    throw new Error('The demo server did not answer. Is `npm start` still running?')
  }
  const answer = (await response.json().catch(() => ({}))) as { message?: string }
  if (!response.ok) throw new Error(answer.message ?? `The demo server answered ${response.status}.`)
  return answer as T
}

/** What a row write answers: the row's id and the txid of the transaction that wrote it (what confirms it). */
export interface WriteResult {
  id: number
  txid: string
}

/** The demo server's API. */
export const demoApi = {
  state: () => call<DemoState>('/api/state', 'GET'),
  setWriter: (running: boolean) => call<DemoState>('/api/writer', 'POST', { running }),
  outage: (seconds: number) => call<DemoState>('/api/outage', 'POST', { seconds }),
  invalidate: () => call<{ deleted: boolean }>('/api/invalidate', 'POST'),
  endOutage: () => call<DemoState>('/api/outage', 'DELETE'),
  /** Inserts `item` with the id the page chose (a 409 when it is taken). */
  addItem: (item: Item) => call<WriteResult>('/api/items', 'POST', item),
  editItem: (id: number, item: Partial<Omit<Item, 'id'>>) => call<WriteResult>(`/api/items/${id}`, 'PATCH', item),
  deleteItem: (id: number) => call<WriteResult>(`/api/items/${id}`, 'DELETE'),
}
