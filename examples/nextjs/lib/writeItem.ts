/**
 * Browser-side calls to `/api/items`. They only write: the list learns about the result through the shape.
 */

/** A write to `items`: insert, toggle `done`, or delete. */
export type ItemWrite =
  | { kind: 'insert'; title: string; priority: number }
  | { kind: 'toggle'; id: string }
  | { kind: 'delete'; id: string }

const METHOD = { insert: 'POST', toggle: 'PATCH', delete: 'DELETE' } as const

/**
 * Sends `write` and rejects with the server's message when it refused it.
 *
 * @example
 * await writeItem({ kind: 'toggle', id: '3' })
 */
export async function writeItem(write: ItemWrite): Promise<void> {
  const { kind, ...body } = write
  const response = await fetch('/api/items', {
    method: METHOD[kind],
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) {
    const detail = (await response.json().catch(() => undefined)) as { message?: string } | undefined
    throw new Error(detail?.message ?? `${METHOD[kind]} /api/items answered ${response.status}`)
  }
}
