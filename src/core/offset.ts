/**
 * Shape log offsets: `-1` (before everything), `now` (skip history) or `TX_OP`.
 *
 * Invariants:
 * - `TX` is a non-negative decimal integer of any size (a Postgres LSN or a snapshot chunk number), kept as a
 *   bigint; `OP` is a non-negative decimal integer or `inf` (after every op of `TX`).
 * - The order is `-1` < every `TX_OP` (by `TX`, then `OP`, `inf` last). `now` is a request, not a position:
 *   it is never compared.
 * - `format(parse(s)) === s` for every canonical `s` (no leading zeros except `0` itself).
 */

/** An offset as it travels in `offset=` and `electric-offset`. */
export type OffsetString = string

/** A concrete log position. `op === Infinity` stands for `inf`. */
export interface LogOffset {
  readonly tx: bigint
  readonly op: number
}

export const BEFORE_ALL: OffsetString = '-1'
export const NOW: OffsetString = 'now'

const TX_OP = /^(0|[1-9]\d*)_(0|[1-9]\d*|inf)$/

/** Parses `TX_OP`; returns `undefined` for `-1`, `now` or anything malformed. */
export function parseLogOffset(value: string): LogOffset | undefined {
  const match = TX_OP.exec(value)
  if (!match) return undefined
  const op = match[2] === 'inf' ? Infinity : Number(match[2])
  if (!Number.isSafeInteger(op) && op !== Infinity) return undefined
  return { tx: BigInt(match[1] as string), op }
}

/** True when `value` is a syntactically valid offset for a request (`-1`, `now` or `TX_OP`). */
export function isValidOffset(value: string): boolean {
  return value === BEFORE_ALL || value === NOW || parseLogOffset(value) !== undefined
}

export function formatLogOffset(offset: LogOffset): OffsetString {
  return `${offset.tx}_${offset.op === Infinity ? 'inf' : offset.op}`
}

/** Orders two log positions; `-1` is accepted and sorts first. */
export function compareOffsets(a: OffsetString, b: OffsetString): -1 | 0 | 1 {
  const pa = a === BEFORE_ALL ? FIRST : parseLogOffset(a)
  const pb = b === BEFORE_ALL ? FIRST : parseLogOffset(b)
  if (!pa || !pb) throw new RangeError(`Cannot compare offsets ${JSON.stringify(a)} and ${JSON.stringify(b)}`)
  if (pa.tx !== pb.tx) return pa.tx < pb.tx ? -1 : 1
  if (pa.op === pb.op) return 0
  return pa.op < pb.op ? -1 : 1
}

/** `-1` as a position: before `0_0`, the smallest `TX_OP`. */
const FIRST: LogOffset = { tx: -1n, op: 0 }

/** The log offset of a live change: `${lsn}_${op_position}` (protocol.ts). */
export function changeOffset(lsn: string, opPosition: number): OffsetString {
  return `${lsn}_${opPosition}`
}
