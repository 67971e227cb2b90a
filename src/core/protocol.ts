/**
 * The Electric `/v1/shape` wire protocol: names and shapes of everything that crosses the wire.
 *
 * This is the one definition of the protocol in the codebase; the client (core) and the dev server both import it.
 * Source of truth: `shared/protocol/SHAPE-PROTOCOL.md` (the real server's behaviour wins over its docs).
 *
 * Invariants:
 * - Wire values are Postgres text output or `null`; they become JS values only in `parse.ts`.
 * - A change's log offset is `${headers.lsn}_${headers.op_position}`; snapshot rows carry neither.
 * - `must-refetch` only ever arrives as the body of a 409; `up-to-date` closes a caught-up batch.
 */

/** Response headers the protocol defines (lower case, as `Headers.get` wants them). */
export const HEADER = {
  handle: 'electric-handle',
  offset: 'electric-offset',
  schema: 'electric-schema',
  cursor: 'electric-cursor',
  upToDate: 'electric-up-to-date',
  hasData: 'electric-has-data',
  snapshot: 'electric-snapshot',
  server: 'electric-server',
  knownError: 'electric-internal-known-error',
  retryAfter: 'retry-after',
} as const

/** Query parameters the protocol defines. */
export const PARAM = {
  table: 'table',
  where: 'where',
  params: 'params',
  columns: 'columns',
  replica: 'replica',
  log: 'log',
  offset: 'offset',
  handle: 'handle',
  live: 'live',
  cursor: 'cursor',
  liveSse: 'live_sse',
  experimentalLiveSse: 'experimental_live_sse',
  expiredHandle: 'expired_handle',
  cacheBuster: 'cache-buster',
  secret: 'secret',
} as const

/** Params of a live SSE request: the current name and the deprecated one, for new and old servers (§1.2). */
export const SSE_LIVE_PARAMS: Readonly<Record<string, string>> = Object.freeze({
  [PARAM.liveSse]: 'true',
  [PARAM.experimentalLiveSse]: 'true',
})

/** Params that position a request in the stream; stripped when computing a shape's identity. */
export const PROTOCOL_PARAMS: readonly string[] = [
  'live',
  'live_sse',
  'experimental_live_sse',
  'handle',
  'offset',
  'cursor',
  'expired_handle',
  'log',
  'subset__where',
  'subset__limit',
  'subset__offset',
  'subset__order_by',
  'subset__params',
  'subset__where_expr',
  'subset__order_by_expr',
  'cache-buster',
]

/** Names a user may not use for custom params: they would corrupt the stream position. */
export const RESERVED_PARAMS: readonly string[] = ['cursor', 'handle', 'live', 'offset', 'cache-buster']

/**
 * What an update carries: the changed columns and the key (`default`), or the whole row and its old values (`full`).
 * @example
 * const options = shapeOptions({ url, params: { table: 'todos', replica: 'full' } }) // updates carry whole rows
 */
export type Replica = 'default' | 'full'
/**
 * `full`: the shape's rows, then its changes; `changes_only`: its changes from now on, no initial snapshot.
 * @example
 * const options = shapeOptions({ url, params: { table: 'todos' }, log: 'changes_only' }) // no initial rows
 */
export type LogMode = 'full' | 'changes_only'
export type Operation = 'insert' | 'update' | 'delete'

/** A value as it travels: Postgres text output or SQL NULL. */
export type WireValue = string | null
/** A row as it travels. */
export type WireRow = Record<string, WireValue>
/**
 * A row after parsing (see `parse.ts`); the default row type of a shape.
 * @example
 * const row: Row = { id: 1, title: 'Write docs' } // the rows' type when no row type is given
 */
export type Row = Record<string, unknown>

/**
 * One column of `electric-schema`. For arrays `type` is the element type and `dims >= 1`.
 * @example
 * const parser: Parser = { money: (value: string, column: ColumnInfo) => Number(value.replace('$', '')) }
 */
export interface ColumnInfo {
  type: string
  dims?: number
  pk_index?: number
  not_null?: boolean
  max_length?: number
  length?: number
  precision?: number
  scale?: number
  fields?: string
  type_mod?: number
}

/**
 * The `electric-schema` header: column name to its description.
 * @example
 * const schema: Schema = { id: { type: 'int8', not_null: true }, title: { type: 'text' } }
 */
export type Schema = Record<string, ColumnInfo>

export interface ChangeHeaders {
  operation: Operation
  relation?: readonly [schema: string, table: string]
  /** Decimal commit LSN of the transaction (live changes only). */
  lsn?: string
  /** Position of the change in its transaction (live changes only). */
  op_position?: number
  txids?: readonly number[]
  /** Present (true) only on the shape's last change of a transaction. */
  last?: boolean
  key_change_to?: string
  key_change_from?: string
  snapshot_mark?: number
  tags?: readonly string[]
  removed_tags?: readonly string[]
}

/** A row change. `value` holds the whole row (insert), changed columns plus the key (update) or the key (delete). */
export interface ChangeMessage<T = Row> {
  key: string
  value: T
  /** `replica=full` updates: previous values of the changed columns. */
  old_value?: Partial<T>
  headers: ChangeHeaders
}

export interface UpToDateMessage {
  headers: { control: 'up-to-date'; global_last_seen_lsn?: string }
}
export interface MustRefetchMessage {
  headers: { control: 'must-refetch' }
}
export interface SnapshotEndMessage {
  headers: { control: 'snapshot-end'; xmin: string; xmax: string; xip_list: readonly string[] }
}
export type ControlMessage = UpToDateMessage | MustRefetchMessage | SnapshotEndMessage
export type ControlName = ControlMessage['headers']['control']

export type Message<T = Row> = ChangeMessage<T> | ControlMessage

export function isChangeMessage<T>(message: Message<T>): message is ChangeMessage<T> {
  return 'key' in message
}

export function isControlMessage<T>(message: Message<T>): message is ControlMessage {
  return !('key' in message)
}

export function isUpToDate<T>(message: Message<T>): message is UpToDateMessage {
  return isControlMessage(message) && message.headers.control === 'up-to-date'
}

/**
 * The identity of a shape: what the server materializes. Two subscribers with equal definitions share one stream.
 * `params` are positional `$1..$n` values for `where`, always strings on the wire.
 */
export interface ShapeDefinition {
  table: string
  where?: string
  params?: readonly string[] | Readonly<Record<string, string>>
  columns?: readonly string[]
  replica?: Replica
  log?: LogMode
}
