/**
 * Reading one stored entry: now from a synchronous storage, or later from an async one, given up after a timeout.
 *
 * Invariants:
 * - `storage.getItem` is called once, when the read starts (when the shape is created), never again.
 * - An async read settles exactly once: with the storage's answer, with its failure, with nothing after
 *   `timeoutMs` (one console warning), or with nothing when cancelled (the shape closed). Its timer never outlives it.
 */
import type { Clock, TimerHandle } from '../clock'
import type { PersistStorage } from './persistStorage'

/** What a read gave: the stored text (`null`/`undefined` for none), or the error the storage failed with. */
export type ReadOutcome = { text: string | null | undefined } | { error: unknown }

/** A read that started: its outcome now, or a promise of it and a way to give it up. */
export type StartedRead = { now: ReadOutcome } | { later: Promise<ReadOutcome>; cancel: () => void }

/** Starts reading `key` (see the file's invariants); `label` names the shape in the timeout warning. */
export function startRead(storage: PersistStorage, key: string, clock: Clock, timeoutMs: number, label: string): StartedRead {
  let read: ReturnType<PersistStorage['getItem']>
  try {
    read = storage.getItem(key)
  } catch (error) {
    return { now: { error } }
  }
  if (typeof (read as { then?: unknown } | null)?.then !== 'function') return { now: { text: read as string | null | undefined } }
  let resolve!: (outcome: ReadOutcome) => void
  const later = new Promise<ReadOutcome>((settled) => (resolve = settled))
  let timer: TimerHandle | undefined
  const settle = (outcome: ReadOutcome): void => {
    if (timer === undefined) return
    clock.clearTimeout(timer)
    timer = undefined
    resolve(outcome)
  }
  timer = clock.setTimeout(() => {
    console.warn(`[live-shapes] Persisted ${label} not read within ${timeoutMs} ms; syncing without it`)
    settle({ text: undefined })
  }, timeoutMs)
  ;(read as Promise<string | null | undefined>).then(
    (text) => settle({ text }),
    (error: unknown) => settle({ error }),
  )
  return { later, cancel: () => settle({ text: undefined }) }
}
