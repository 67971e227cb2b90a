/**
 * Definitions → handles → logs: creates each shape once, without losing or duplicating a transaction, and deletes it.
 *
 * Invariants:
 * - One live shape per definition key; concurrent requests for a new definition share one creation. A creation
 *   every waiter left is forgotten at once (a request arriving while its snapshot is being cancelled starts a new
 *   one) and registers no shape, even if its snapshot completes.
 * - A shape subscribes to the source before its snapshot starts and buffers what arrives meanwhile; once the
 *   snapshot is in, buffered transactions visible in it (xid < xmin, or xid < xmax and not in xip_list) are dropped
 *   and the rest are appended in order. Nothing is lost and nothing is applied twice.
 * - Handles are `"{hash of the key}-{µs timestamp}"`, strictly increasing timestamps per registry, so a
 *   recreated shape never reuses a handle.
 * - A deleted shape leaves both maps at once, stops listening to the source and wakes its waiters; the next
 *   request for its definition creates a new shape.
 * - After `close()` a shape is deleted as soon as it is created: a request in flight at the close gets its snapshot,
 *   and no shape keeps listening to the source.
 * - A failed snapshot leaves no trace: the creation is forgotten and the error goes to the request.
 * - A transaction that truncates a shape's table deletes the shape instead of appending to it, so its
 *   clients get 409 must-refetch and resync, as Electric answers a TRUNCATE. One that commits while the snapshot is
 *   taken and is not visible in it deletes the new shape as soon as it is registered: its first reader gets that
 *   snapshot and then the 409. A transaction naming the table in `schemaChanged` (source.ts) deletes it the same
 *   way, as Electric answers a relation change: the 409 makes clients refetch the new columns and schema. A
 *   buffered schema change deletes the new shape even when the snapshot contains it: the shape's description was
 *   read before the snapshot began, so it may be the old one (a false alarm costs one resync).
 * - A request key (shapeDefinition.ts: `requestKey`) that resolved to a live shape is remembered with that shape, at
 *   most `MAX_REQUEST_KEYS` of them, and forgotten when it is deleted, so `resolvedRequest` never answers a deleted
 *   shape.
 * - A `log=changes_only` shape's snapshot asks for no rows (`limit: 0`, applied after `where` as source.ts says): it
 *   serves none, and only its `xmin`/`xmax`/`xipList` decide which buffered transactions it appends.
 * - Eviction, as Electric's: while there are more than `maxShapes` shapes or their messages exceed `maxShapeBytes`
 *   (shapeLog.ts `bytes`), the least recently used shape that no request holds (`hold`) is deleted, so its
 *   clients get 409 must-refetch and resync. A shape being served (a held long-poll, an open SSE stream, a snapshot
 *   being read) is never evicted, nor the most recently used one (the shape just created for the request that asked
 *   for it, or a single shape larger than the byte bound, which would otherwise be rebuilt and evicted in a loop);
 *   when every other shape is held the bounds are exceeded until one is released. Every request that finds a shape
 *   holds it (which also makes it the most recently used) and releases it when its response is complete. The hold is
 *   taken in the job that hands the shape to the request (`acquire`), and a new shape is held by its creation until
 *   its waiters hold it, so no eviction falls between a shape being found and being held.
 * - A shape's snapshot runs through the handler's snapshot gate (snapshotGate.ts) with the handler's statement timeout
 *   (source.ts: time limit and abort), and is aborted when every request waiting for that creation has gone.
 */
import type { Clock } from '../core/clock'
import { snapshotMessage, transactionEntries } from './changeMessages'
import type { ShapeDefinition } from './shapeDefinition'
import { ShapeLog } from './shapeLog'
import type { SnapshotGate } from './snapshotGate'
import type { ChangeSource, SnapshotResult, TableName, Transaction } from './sources/source'

/** Bounds what one shape remembers when clients spell its definition many ways. */
const MAX_REQUEST_KEYS = 16

export interface ShapeRegistryOptions {
  source: ChangeSource
  clock: Clock
  /** Snapshot chunk threshold in bytes (UTF-16 code units of the serialised messages). */
  chunkBytes: number
  /** Runs each snapshot query (the snapshot bounds above); none means unbounded. */
  gate?: SnapshotGate
  /** `timeoutMs` of each shape snapshot (the snapshot bounds above). */
  snapshotTimeoutMs?: number
  /** Most shapes kept (eviction, above); default unbounded. */
  maxShapes?: number
  /** Most bytes of messages kept across shapes (eviction, above); default unbounded. */
  maxShapeBytes?: number
}

/** What the registry holds now (eviction, above). */
export interface ShapeRegistryStats {
  shapes: number
  /** Sum of the shapes' `bytes` (shapeLog.ts `bytes`). */
  shapeBytes: number
  /** Shapes deleted by eviction since the registry started. */
  evicted: number
}

/** A creation shared by the requests waiting for it (one live shape per definition key; the snapshot bounds above). */
interface Creation {
  promise: Promise<ShapeLog>
  controller: AbortController
  waiting: number
  /** Releases the hold the creation keeps on its new shape until its waiters have taken theirs (eviction, above). */
  releaseCreationHold?: () => void
}

/** A shape and the hold its request keeps on it (eviction, above); `release` is idempotent. */
export interface HeldShape {
  readonly log: ShapeLog
  readonly release: () => void
}

export class ShapeRegistry {
  readonly #options: ShapeRegistryOptions
  readonly #byKey = new Map<string, Creation>()
  readonly #byHandle = new Map<string, ShapeLog>()
  /** The created shape of each key, kept in step with `#byKey` so deletion is synchronous. */
  readonly #created = new Map<string, ShapeLog>()
  readonly #unsubscribe = new Map<ShapeLog, () => void>()
  readonly #requestKeys = new Map<ShapeLog, Set<string>>()
  /** Live shapes, least recently used first (eviction, above); the value is how many requests hold the shape. */
  readonly #recency = new Map<ShapeLog, number>()
  #bytes = 0
  #evicted = 0
  #lastMicros = 0
  #closed = false

  constructor(options: ShapeRegistryOptions) {
    this.#options = options
  }

  /**
   * The shape for `definition`, created if needed. The creation is aborted when the signals of all
   * the requests waiting for it have aborted (the snapshot bounds above); each caller stops waiting at its own
   * signal's abort.
   */
  getOrCreate(definition: ShapeDefinition, signal?: AbortSignal): Promise<ShapeLog> {
    const creation = this.#creationOf(definition)
    if (signal === undefined) {
      // A caller that cannot leave keeps the creation alive for good.
      creation.waiting = Infinity
      return creation.promise
    }
    return this.#wait(creation, signal, (log) => log)
  }

  /**
   * The shape for `definition`, created if needed, already held for the caller (eviction, above): the hold is taken
   * in the same job that learns the shape, so no other request's eviction can delete it first. A shape that exists is
   * held at once; a new one is held by its creation until every request that waited for it has taken its own hold.
   * @example
   * const { log, release } = await registry.acquire(definition, request.signal)
   * try { return await serve(log) } finally { release() }
   */
  acquire(definition: ShapeDefinition, signal: AbortSignal): Promise<HeldShape> {
    const existing = this.#created.get(definition.key)
    if (existing !== undefined) return Promise.resolve({ log: existing, release: this.hold(existing) })
    if (signal.aborted) return Promise.reject(signal.reason)
    return this.#wait(this.#creationOf(definition), signal, (log) => ({ log, release: this.hold(log) }))
  }

  /** The creation of `definition`'s shape, started if none is under way or done. */
  #creationOf(definition: ShapeDefinition): Creation {
    const current = this.#byKey.get(definition.key)
    if (current !== undefined) return current
    const controller = new AbortController()
    // `#create` hands over the creation's hold only after its snapshot, long after `started` exists.
    const started: Creation = {
      promise: this.#create(definition, controller.signal, (release) => (started.releaseCreationHold = release)),
      controller,
      waiting: 0,
    }
    this.#byKey.set(definition.key, started)
    // Forgotten as soon as its last waiter leaves, not when its cancelled snapshot settles: a request arriving
    // meanwhile (a reload) starts a new creation instead of joining one that is failing.
    controller.signal.addEventListener('abort', () => {
      if (this.#byKey.get(definition.key) === started) this.#byKey.delete(definition.key)
    }, { once: true })
    started.promise.catch(() => {
      if (this.#byKey.get(definition.key) === started) this.#byKey.delete(definition.key)
    })
    // The creation's hold ends one job after the shape's waiters learned it: their reactions, attached before it
    // settled, run first and take their own holds (`acquire`).
    started.promise
      .then(() => undefined)
      .then(
        () => started.releaseCreationHold?.(),
        () => undefined,
      )
    return started
  }

  /**
   * Waits for `creation` until `signal` aborts (the last waiter leaving aborts the creation), then gives `take` of its
   * shape, run in the job that learns it (so a hold taken there leaves no gap: `acquire`).
   */
  #wait<R>(creation: Creation, signal: AbortSignal, take: (log: ShapeLog) => R): Promise<R> {
    if (signal.aborted) return Promise.reject(signal.reason)
    creation.waiting += 1
    return new Promise<R>((resolve, reject) => {
      const onAbort = (): void => {
        creation.waiting -= 1
        if (creation.waiting === 0) creation.controller.abort(signal.reason)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      creation.promise.then(
        (log) => {
          signal.removeEventListener('abort', onAbort)
          if (!signal.aborted) resolve(take(log))
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      )
    })
  }

  /**
   * Marks `log` in use until the returned function is called (eviction, above): it is the most recently used shape
   * and is not evicted meanwhile. The release function is idempotent.
   * @example
   * const release = registry.hold(log)
   * try { return await serve(log) } finally { release() }
   */
  hold(log: ShapeLog): () => void {
    const holds = this.#recency.get(log)
    if (holds === undefined) return () => {}
    this.#recency.delete(log)
    this.#recency.set(log, holds + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const current = this.#recency.get(log)
      if (current === undefined) return
      this.#recency.set(log, current - 1)
      if (current === 1) this.#evict()
    }
  }

  stats(): ShapeRegistryStats {
    return { shapes: this.#byHandle.size, shapeBytes: this.#bytes, evicted: this.#evicted }
  }

  /** The created shape of a definition key, if any. */
  current(key: string): ShapeLog | undefined {
    return this.#created.get(key)
  }

  byHandle(handle: string): ShapeLog | undefined {
    return this.#byHandle.get(handle)
  }

  /** The live shape `handle` names, if `requestKey` resolved to it before. */
  resolvedRequest(handle: string, requestKey: string): ShapeLog | undefined {
    const log = this.#byHandle.get(handle)
    return log !== undefined && this.#requestKeys.get(log)?.has(requestKey) === true ? log : undefined
  }

  /** Remembers that `requestKey` resolved to `log`, while `log` lives. */
  rememberRequest(log: ShapeLog, requestKey: string): void {
    if (this.#byHandle.get(log.handle) !== log) return
    let keys = this.#requestKeys.get(log)
    if (keys === undefined) this.#requestKeys.set(log, (keys = new Set()))
    if (keys.size < MAX_REQUEST_KEYS) keys.add(requestKey)
  }

  /** Deletes a shape. */
  delete(log: ShapeLog): void {
    if (this.#byHandle.get(log.handle) !== log) return
    this.#byHandle.delete(log.handle)
    if (this.#created.get(log.definition.key) === log) {
      this.#created.delete(log.definition.key)
      this.#byKey.delete(log.definition.key)
    }
    this.#unsubscribe.get(log)?.()
    this.#unsubscribe.delete(log)
    this.#requestKeys.delete(log)
    if (this.#recency.delete(log)) this.#bytes -= log.bytes
    log.delete()
  }

  /** Deletes least recently used shapes nobody holds while a bound is exceeded (eviction, above), but the latest. */
  #evict(): void {
    const { maxShapes = Infinity, maxShapeBytes = Infinity } = this.#options
    const over = (): boolean => this.#recency.size > maxShapes || this.#bytes > maxShapeBytes
    if (!over()) return
    const candidates = [...this.#recency]
    candidates.pop()
    for (const [log, holds] of candidates) {
      if (!over()) return
      if (holds > 0) continue
      this.#evicted += 1
      this.delete(log)
    }
  }

  /** Deletes every shape, and from then on every shape as soon as it is created (requests in flight at close). */
  async close(): Promise<void> {
    this.#closed = true
    const pending = [...this.#byKey.values()].map((creation) => creation.promise.catch(() => undefined))
    for (const log of await Promise.all(pending)) if (log) this.delete(log)
    this.#byKey.clear()
  }

  async #create(definition: ShapeDefinition, signal: AbortSignal, holdCreated: (release: () => void) => void): Promise<ShapeLog> {
    const { source, gate, snapshotTimeoutMs } = this.#options
    const buffered: Transaction[] = []
    let log: ShapeLog | undefined
    // One rule for live and buffered transactions; a deleted log ignores appends (shapeLog.ts).
    const apply = (shapeLog: ShapeLog, transaction: Transaction): void => {
      if (invalidates(transaction, definition)) return this.delete(shapeLog)
      const before = shapeLog.bytes
      shapeLog.append(transactionEntries(definition, transaction))
      if (shapeLog.bytes === before || !this.#recency.has(shapeLog)) return
      this.#bytes += shapeLog.bytes - before
      this.#evict()
    }
    const unsubscribe = source.subscribe((transaction) => {
      if (log) apply(log, transaction)
      else buffered.push(transaction)
    })
    let snapshot: SnapshotResult
    try {
      const take = (): Promise<SnapshotResult> =>
        source.snapshot({
          table: definition.table,
          where: definition.where?.sql,
          params: definition.where?.params ?? [],
          // A changes_only shape serves no snapshot rows, so it reads none; it still needs the visibility.
          ...(definition.log === 'changes_only' ? { limit: 0 } : {}),
          ...(snapshotTimeoutMs !== undefined ? { timeoutMs: snapshotTimeoutMs } : {}),
          signal,
        })
      snapshot = await (gate ? gate.run(signal, take) : take())
      // Abandoned while its snapshot finished: another creation may own the key now; this one registers nothing.
      signal.throwIfAborted()
    } catch (error) {
      unsubscribe()
      throw error
    }
    const rows = snapshot.rows.map((row) => snapshotMessage(definition, row))
    const end = JSON.stringify({
      headers: { control: 'snapshot-end', xmin: snapshot.xmin, xmax: snapshot.xmax, xip_list: snapshot.xipList },
    })
    const created = new ShapeLog({ handle: this.#newHandle(definition.key), definition, chunks: chunk(rows, end, this.#options.chunkBytes) })
    // Registered first, so a buffered TRUNCATE or schema change can delete it like a live one.
    this.#byHandle.set(created.handle, created)
    this.#created.set(definition.key, created)
    this.#unsubscribe.set(created, unsubscribe)
    this.#recency.set(created, 0)
    holdCreated(this.hold(created))
    this.#bytes += created.bytes
    for (const transaction of buffered) {
      if (!visibleIn(snapshot, transaction.xid)) apply(created, transaction)
      else if (changesSchema(transaction, definition)) this.delete(created)
    }
    log = created
    // A request that was resolving its definition when close() ran gets its snapshot, but the shape ends there.
    if (this.#closed) this.delete(created)
    this.#evict()
    return created
  }

  #newHandle(key: string): string {
    this.#lastMicros = Math.max(this.#lastMicros + 1, Math.floor(this.#options.clock.now() * 1000))
    return `${fnv1a(key)}-${this.#lastMicros}`
  }
}

/** True when `transaction` truncated the table of `definition` or changed its columns. */
function invalidates(transaction: Transaction, definition: ShapeDefinition): boolean {
  return (transaction.truncated?.some(naming(definition)) ?? false) || changesSchema(transaction, definition)
}

/** True when `transaction` changed the columns of the table of `definition`. */
function changesSchema(transaction: Transaction, definition: ShapeDefinition): boolean {
  return transaction.schemaChanged?.some(naming(definition)) ?? false
}

function naming(definition: ShapeDefinition): (table: TableName) => boolean {
  const { schema, name } = definition.table
  return (table) => table.schema === schema && table.table === name
}

/** Postgres visibility of a committed transaction in a snapshot. */
export function visibleIn(snapshot: Pick<SnapshotResult, 'xmin' | 'xmax' | 'xipList'>, xid: string): boolean {
  const id = BigInt(xid)
  if (id < BigInt(snapshot.xmin)) return true
  return id < BigInt(snapshot.xmax) && !snapshot.xipList.includes(String(id))
}

/** Rows split into chunks of about `limit` bytes each; `end` closes the last chunk. */
function chunk(rows: readonly string[], end: string, limit: number): string[][] {
  const chunks: string[][] = [[]]
  let bytes = 0
  for (const row of rows) {
    const current = chunks.at(-1) as string[]
    if (current.length > 0 && bytes + row.length > limit) {
      chunks.push([row])
      bytes = row.length
    } else {
      current.push(row)
      bytes += row.length
    }
  }
  ;(chunks.at(-1) as string[]).push(end)
  return chunks
}

/** 32-bit FNV-1a of `text`, in decimal: short, stable across runs, no Node crypto needed in the testing entry. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}
