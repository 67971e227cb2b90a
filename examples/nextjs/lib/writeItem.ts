/**
 * Browser-side calls to `/api/items`: each resolves to the `{ txid }` of the write's transaction, which
 * `useShapeMutation` waits for in the shape before it drops its optimistic rows (lib/itemWrites.ts, W1).
 */

/** A write to `items`: insert, toggle `done`, or delete. */
export type ItemWrite =
  | { kind: 'insert'; id: string; title: string; priority: number }
  | { kind: 'toggle'; id: string }
  | { kind: 'delete'; id: string }

const METHOD = { insert: 'POST', toggle: 'PATCH', delete: 'DELETE' } as const

/**
 * Sends `write`; resolves to its txid, rejects with the server's message when it refused it.
 *
 * @example
 * const { txid } = await writeItem({ kind: 'toggle', id: '3' })
 */
export async function writeItem(write: ItemWrite): Promise<{ txid: string }> {
  const { kind, ...body } = write
  const response = await fetch('/api/items', {
    method: METHOD[kind],
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const answer = (await response.json().catch(() => undefined)) as { txid?: string; message?: string } | undefined
  if (!response.ok || typeof answer?.txid !== 'string') {
    throw new Error(answer?.message ?? `${METHOD[kind]} /api/items answered ${response.status}`)
  }
  return { txid: answer.txid }
}

/** A new item id chosen in the browser, so the optimistic row and the synced one share their key. */
export function newItemId(): string {
  return String(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)))
}
