/**
 * `live-shapes/core`: the framework-free protocol client and shape store. No React in here (see docs/ARCHITECTURE.md).
 *
 * Every name below is a public promise, listed explicitly (test/publicApi.test.ts lists the runtime ones, so an
 * accidental export fails review). What the package needs between its own modules and users do not lives in
 * `./internal` (not in package.json `exports`).
 */

// The client and its shapes
export { ShapeClient } from './shapeClient'
export type { ShapeClientOptions } from './shapeClient'
export { Shape } from './shape'
export type { ShapeHydrationState } from './shape'
export { shapeOptions } from './shapeOptions'
export type { ErrorRecovery, OnError, ShapeOptions } from './shapeOptions'
export type { HeadersInput, MaybeAsync, ParamValue, ShapeParamsInput } from './requestUrl'
export type { LogMode, Replica, Row } from './protocol'
export type { ShapeSnapshot } from './shapeSnapshot'
export type { LiveTransport, ShapePhase, ShapeStatus } from './shapeStatus'
export type { SubsetSnapshot, SubsetSnapshotRequest } from './subsetSnapshot'
export type { SnapshotMetadata } from './snapshotTracker'

// Selector equality (no React needed)
export { shallow } from './shallow'

// Injected dependencies
export type { BackoffOptions } from './backoff'
export type { Clock, TimerHandle } from './clock'
export type { FetchLike } from './fetchLike'
export type { VisibilityAdapter } from './visibility'
export type { LiveRunnerFactory } from './liveRunner'

// Errors
export {
  FetchError,
  InvalidOptionsError,
  MalformedResponseError,
  MalformedSchemaError,
  MissingHeadersError,
  NetworkError,
  NullValueError,
  RepeatedMustRefetchError,
  ReservedParamError,
  RetriesExhaustedError,
  ShapeError,
  ShapeRequestError,
  StaleResponseError,
  ValueParseError,
} from './errors'
export type { ShapeErrorCode } from './errors'
export { DehydratedStateError } from './dehydratedStateError'

// Parsers and column mappers
export { defaultParser, parsePgArray } from './parse'
export type { Parser, ValueParser } from './parse'
export type { ColumnInfo, Schema } from './protocol'
export { createColumnMapper, snakeCamelMapper } from './columnMapper'
export type { ColumnMapper } from './columnMapper'

// Server rendering and hydration
export { dehydrate, dehydrateShapes, hydrate, parseDehydratedState, prefetchShape, serializeDehydratedState } from './hydration'
export type {
  DehydratedShape,
  DehydratedShapeOptions,
  DehydratedShapePosition,
  DehydratedState,
  DehydrateOptions,
  HydrateOptions,
} from './hydration'
export type { JsonValue } from './dehydratedValue'

// Optimistic writes confirmed by txid
export { rowKey, rowKeyOf, RowKeyError } from './rowKey'
export type { RowKeyValue, RowKeyTable, RowKeyOptions } from './rowKey'
export { TxidTimeoutError } from './txid'
export type { Txid } from './txid'
export type { WhenTxidOptions } from './txidTracker'
export type { MutationDraft, MutateOptions, CommitResult, MutationResult } from './mutationDraft'

// Persistence (instant reloads)
export { memoryStorage } from './persist/persistStorage'
export type { MaybePromise, MemoryStorage, PersistStorage } from './persist/persistStorage'
export { indexedDBStorage } from './persist/indexedDBStorage'
export type { IndexedDBStorageOptions } from './persist/indexedDBStorage'
export { browserPageHide } from './persist/pageHide'
export type { PageHideAdapter } from './persist/pageHide'
export type { PersistOptions } from './persist/shapePersister'
export type { ShapeRowSource } from './shapeStatus'

// Connectivity (retry at once on online / focus; status.offline)
export { browserConnectivity } from './connectivity'
export type { ConnectivityAdapter, ConnectivityChange } from './connectivity'
export { createYielder, neverYield } from './yielder'
export type { Yielder, YielderOptions } from './yielder'
