/**
 * Loading subset snapshots into one shape (`shape.requestSnapshot`): the request at the stream's position, the rows
 * merged into the store through the shape's `SnapshotSink`.
 *
 * Invariants:
 * - A snapshot is requested once the shape is up to date, at the stream's handle and offset, so the server
 *   answers for the log the stream follows and the metadata can be compared with the changes that follow.
 * - The rows are merged by the shape's `SnapshotMerge`, installed on its sink on first use: live changes the snapshot
 *   holds are dropped, rows changed since the snapshot keep their newer version. A 409 between request and merge
 *   discards the response and asks again once the shape is up to date with its new handle (at most `MAX_ATTEMPTS`
 *   times). After a 409 the next attempt waits until the stream has left the refused handle (or stopped):
 *   a shape restored from storage is up to date on a handle the server may have dropped long ago, and asking again
 *   before the stream's own request met its 409 would only spend the attempts on the same refusal.
 * - The promise resolves with the page's rows as the server sent them (what the snapshot says), and only after
 *   they are published in the shape.
 */
import { RetriesExhaustedError, ShapeError } from './errors'
import type { FetchLike } from './fetchLike'
import type { ChangeMessage } from './protocol'
import type { ShapeOptions } from './shapeOptions'
import type { ShapeStatus } from './shapeStatus'
import { SnapshotMerge } from './snapshotMerge'
import type { SnapshotSink } from './snapshotSink'
import type { SubsetSnapshot, SubsetSnapshotRequest } from './subsetSnapshot'
import { fetchSubset, validateSubset } from './subsetSnapshot'

const MAX_ATTEMPTS = 3

/** What `ShapeSubsets` needs of its shape. */
export interface SubsetTarget {
  whenUpToDate(): Promise<void>
  getStatus(): ShapeStatus
  subscribeStatus(listener: () => void): () => void
}

/**
 * The subset loader of one shape.
 * @example
 * const subsets = new ShapeSubsets(sink, fetch, options); await subsets.request(shape, { orderBy: 'id', limit: 10 })
 */
export class ShapeSubsets<T> {
  readonly #merge: SnapshotMerge<T>
  readonly #fetch: FetchLike
  readonly #options: ShapeOptions<T>

  constructor(sink: SnapshotSink<T>, fetch: FetchLike, options: ShapeOptions<T>) {
    this.#merge = new SnapshotMerge(sink)
    this.#fetch = fetch
    this.#options = options
  }

  /** Loads `subset` into the shape. */
  async request(target: SubsetTarget, subset: SubsetSnapshotRequest, signal?: AbortSignal): Promise<SubsetSnapshot<T>> {
    validateSubset(subset)
    let last: ShapeError | undefined
    let refused: string | undefined
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      signal?.throwIfAborted()
      if (refused !== undefined) await leftHandle(target, refused, signal)
      await target.whenUpToDate()
      const { handle, offset } = target.getStatus()
      const recording = this.#merge.begin()
      try {
        const fetched = await fetchSubset({ fetch: this.#fetch, options: this.#options, subset, position: { handle, offset }, signal })
        const rows: ChangeMessage<T>[] = []
        for (const message of fetched.messages) {
          const row = recording.rowFor(fetched.metadata, message)
          if (row !== undefined) rows.push(row)
        }
        if (await this.#merge.load(recording.generation, fetched.metadata, rows)) {
          return { data: fetched.data, metadata: fetched.metadata }
        }
        last = undefined
      } catch (error) {
        // A 409: the shape was rotated under the request; the stream resyncs, then we ask again.
        if (!(error instanceof ShapeError) || !('status' in error) || error.status !== 409) throw error
        last = error
        refused = handle ?? ''

      } finally {
        recording.end()
      }
    }
    throw new RetriesExhaustedError(MAX_ATTEMPTS, last ?? new ShapeRotatedError())
  }
}

/** Resolves once the stream's handle is not `handle` any more, or the stream stopped (see above). */
function leftHandle(target: SubsetTarget, handle: string, signal: AbortSignal | undefined): Promise<void> {
  const left = (): boolean => {
    const status = target.getStatus()
    // 'error' and 'idle': the stream stopped (for good, or the shape closed); `whenUpToDate` then says why.
    return (status.handle ?? '') !== handle || status.phase === 'error' || status.phase === 'idle'
  }
  if (left()) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    const finish = (): void => {
      off()
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = (): void => {
      finish()
      reject(signal?.reason)
    }
    const off = target.subscribeStatus(() => {
      if (!left()) return
      finish()
      resolve()
    })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The shape was reset (409) each time a snapshot was about to be merged. */
class ShapeRotatedError extends ShapeError {
  readonly code = 'http' as const
  readonly retryable = true
  constructor() {
    super('The shape was reset (409) while its subset snapshot was loading')
  }
}
