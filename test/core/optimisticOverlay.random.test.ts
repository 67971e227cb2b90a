/**
 * Randomized check of the optimistic overlay against a model: after any sequence of writes, commits, rejections,
 * timeouts and synced batches (some confirming writes, some not), what readers see is the synced rows with the
 * still-pending writes folded over them in call order, `isPending` names exactly their keys, and each step that
 * changes anything publishes once.
 */
import { describe, expect, it } from 'vitest'
import { OptimisticOverlay } from '../../src/core/optimisticOverlay'
import type { Message } from '../../src/core/protocol'
import { ShapeStore } from '../../src/core/shapeStore'
import { ManualClock } from './support/manualClock'

interface R {
  id: number
  a?: number
  b?: number
}

type Op = { kind: 'insert'; row: R } | { kind: 'update'; row: R } | { kind: 'delete'; id: number }

interface Pending {
  ops: Op[]
  txid: number | undefined
  commit: { resolve: (value: { txid: number }) => void; reject: (error: unknown) => void }
  outcome: 'pending' | 'confirmed' | 'failed'
}

function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const key = (id: number): string => `k${id}`

function fold(base: Map<string, R>, pending: readonly Pending[]): Map<string, R | undefined> {
  const visible = new Map<string, R | undefined>()
  for (const mutation of pending) {
    for (const op of mutation.ops) {
      const k = key(op.kind === 'delete' ? op.id : op.row.id)
      const current = visible.has(k) ? visible.get(k) : base.get(k)
      if (op.kind === 'delete') visible.set(k, undefined)
      else if (op.kind === 'insert' || current === undefined) visible.set(k, op.row)
      else visible.set(k, { ...current, ...op.row })
    }
  }
  return visible
}

describe('optimistic overlay, randomized against a model', () => {
  it('shows synced rows with pending writes folded over them, after every step', async () => {
    for (let run = 0; run < 150; run++) {
      const next = random(run + 1)
      const pick = (n: number): number => Math.floor(next() * n)
      const store = new ShapeStore<R>()
      const clock = new ManualClock()
      const overlay = new OptimisticOverlay<R>({ store, clock, keyOf: (row) => key((row as R).id), checkKey: () => undefined, retain: () => () => undefined })
      const base = new Map<string, R>()
      store.applyBatch([{ headers: { control: 'up-to-date' } }])
      let publishes = 0
      overlay.subscribe(() => publishes++)
      const mutations: Pending[] = []
      let nextTxid = 100
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 4; i++) await Promise.resolve()
      }
      for (let step = 0; step < 30; step++) {
        const action = pick(5)
        const before = publishes
        if (action === 0 || mutations.every((m) => m.outcome !== 'pending')) {
          const ops: Op[] = Array.from({ length: 1 + pick(2) }, (): Op => {
            const id = pick(4)
            const kind = pick(3)
            if (kind === 0) return { kind: 'insert', row: { id, a: pick(9), b: pick(9) } }
            if (kind === 1) return { kind: 'update', row: pick(2) ? { id, a: pick(9) } : { id, b: pick(9) } }
            return { kind: 'delete', id }
          })
          let commit!: Pending['commit']
          const promise = new Promise<{ txid: number }>((resolve, reject) => (commit = { resolve, reject }))
          const pending: Pending = { ops, txid: undefined, commit, outcome: 'pending' }
          mutations.push(pending)
          overlay
            .mutate({
              apply: (draft) => {
                for (const op of ops) {
                  if (op.kind === 'insert') draft.insert(op.row)
                  else if (op.kind === 'update') draft.update(op.row)
                  else draft.delete({ id: op.id })
                }
              },
              commit: () => promise,
              timeoutMs: 1000,
            })
            .then(
              () => (pending.outcome = 'confirmed'),
              () => (pending.outcome = 'failed'),
            )
          expect(publishes).toBe(before + 1)
        } else {
          const live = mutations.filter((m) => m.outcome === 'pending')
          const target = live[pick(live.length)] as Pending
          if (action === 1 && target.txid === undefined) {
            target.txid = nextTxid++
            target.commit.resolve({ txid: target.txid })
          } else if (action === 2 && target.txid === undefined) {
            target.commit.reject(new Error('refused'))
          } else if (action === 3) {
            // A synced batch: the server's version of the rows; it carries the target's txid when it has one, half the time.
            const confirms = target.txid !== undefined && pick(2) === 0
            const id = pick(4)
            const value: R = { id, a: 50 + pick(9), b: 50 + pick(9) }
            const messages: Message<R>[] = [
              pick(3) === 0
                ? { key: key(id), value: { id }, headers: { operation: 'delete', txids: [confirms ? (target.txid as number) : 1] } }
                : { key: key(id), value, headers: { operation: 'insert', txids: [confirms ? (target.txid as number) : 1] } },
              { headers: { control: 'up-to-date' } },
            ]
            const message = messages[0] as { key: string; value: R; headers: { operation: string } }
            if (message.headers.operation === 'delete') base.delete(key(id))
            else base.set(key(id), value)
            const seen: Array<R | undefined> = []
            const unsubscribe = overlay.subscribe(() => seen.push(overlay.getRow(key(id))))
            store.applyBatch(messages)
            unsubscribe()
            expect(seen.length).toBeLessThanOrEqual(1)
          } else if (action === 4 && target.txid !== undefined) {
            clock.advance(1000)
          }
        }
        await settle()
        const pending = mutations.filter((m) => m.outcome === 'pending')
        const expected = fold(base, pending)
        const snapshot = overlay.getSnapshot()
        const rows = new Map<string, R>()
        for (const [k, row] of base) rows.set(k, row)
        for (const [k, row] of expected) {
          if (row === undefined) rows.delete(k)
          else rows.set(k, row)
        }
        for (let id = 0; id < 4; id++) {
          expect(overlay.getRow(key(id))).toEqual(rows.get(key(id)))
          expect(snapshot.rows.get(key(id))).toEqual(rows.get(key(id)))
          expect(snapshot.isPending(key(id))).toBe(expected.has(key(id)))
        }
        expect(new Map(snapshot.rows)).toEqual(rows)
        expect(snapshot.rows.size).toBe(rows.size)
        expect(new Set(snapshot.keys)).toEqual(new Set(rows.keys()))
      }
    }
  })
})
