/**
 * What a staged write replaced in a Map, and how to put it back (shapeStore.ts, on staging).
 *
 * Invariants:
 * - While a log is open its Map is only ever `set` (no `delete`, no `clear`). `Map.set` keeps an existing key's
 *   position and appends a new one, so the keys past the first `sizeBefore` entries are exactly the ones added since
 *   the log began: only overwrites need a record (of a key present when the log began, or of one added and then
 *   rewritten). Writing distinct new keys, as an initial sync does, records nothing; a log begun on an empty Map
 *   never records (every key is one undo deletes) and skips the lookup an overwrite check costs.
 * - `undo` restores the Map exactly, order included: overwrites are replayed newest first, then the added keys
 *   are deleted.
 */

/** The overwrites of one Map since `sizeBefore`. */
export interface UndoLog<V> {
  readonly sizeBefore: number
  readonly keys: string[]
  readonly previous: V[]
}

/**
 * An empty log for `map` as it is now.
 * @example
 * const log = undoLogOf(pending)
 * setLogged(pending, key, row, log)
 * undo(pending, log) // pending is as before
 */
export function undoLogOf<V>(map: Map<string, V>): UndoLog<V> {
  return { sizeBefore: map.size, keys: [], previous: [] }
}

/** Sets `key` in `map`, logging what it overwrote when `log` is given. */
export function setLogged<V>(map: Map<string, V>, key: string, value: V, log: UndoLog<V> | undefined): void {
  // A log begun on an empty Map records nothing: every key in it was added since, and undo deletes those.
  if (log === undefined || log.sizeBefore === 0) {
    map.set(key, value)
    return
  }
  const previous = map.get(key) as V
  const size = map.size
  map.set(key, value)
  if (map.size === size) {
    log.keys.push(key)
    log.previous.push(previous)
  }
}

/** Restores `map` as it was when `log` began. */
export function undo<V>(map: Map<string, V>, log: UndoLog<V>): void {
  for (let i = log.keys.length - 1; i >= 0; i--) map.set(log.keys[i] as string, log.previous[i] as V)
  const added: string[] = []
  let position = 0
  for (const key of map.keys()) if (position++ >= log.sizeBefore) added.push(key)
  for (const key of added) map.delete(key)
}
