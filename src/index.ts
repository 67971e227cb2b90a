/**
 * `live-shapes`: React hooks over live shapes, and everything of `live-shapes/core`, so one import serves an app.
 *
 * Explicit lists (test/publicApi.test.ts checks that this entry exports every runtime name of `live-shapes/core`).
 */
// The client and its shapes
export { ShapeClient } from './core/shapeClient'
export type { ShapeClientOptions } from './core/shapeClient'
export { Shape } from './core/shape'
export type { ShapeHydrationState } from './core/shape'
export { shapeOptions } from './core/shapeOptions'
export type { ErrorRecovery, OnError, ShapeOptions } from './core/shapeOptions'
export type { HeadersInput, MaybeAsync, ParamValue, ShapeParamsInput } from './core/requestUrl'
export type { LogMode, Replica, Row } from './core/protocol'
export type { ShapeSnapshot } from './core/shapeSnapshot'
export type { LiveTransport, ShapePhase, ShapeStatus } from './core/shapeStatus'

// Injected dependencies
export type { BackoffOptions } from './core/backoff'
export type { Clock, TimerHandle } from './core/clock'
export type { FetchLike } from './core/fetchLike'
export type { VisibilityAdapter } from './core/visibility'
export type { LiveRunnerFactory } from './core/liveRunner'

// Errors
export {
  FetchError,
  InvalidOptionsError,
  MalformedResponseError,
  MalformedSchemaError,
  MissingHeadersError,
  NetworkError,
  NullValueError,
  ReservedParamError,
  RetriesExhaustedError,
  ShapeError,
  ShapeRequestError,
  ValueParseError,
} from './core/errors'
export type { ShapeErrorCode } from './core/errors'
export { DehydratedStateError } from './core/dehydratedStateError'

// Parsers and column mappers
export { defaultParser, parsePgArray } from './core/parse'
export type { Parser, ValueParser } from './core/parse'
export type { ColumnInfo, Schema } from './core/protocol'
export { createColumnMapper, snakeCamelMapper } from './core/columnMapper'
export type { ColumnMapper } from './core/columnMapper'

// Server rendering and hydration
export { dehydrate, dehydrateShapes, hydrate, parseDehydratedState, prefetchShape, serializeDehydratedState } from './core/hydration'
export type {
  DehydratedShape,
  DehydratedShapeOptions,
  DehydratedShapePosition,
  DehydratedState,
  DehydrateOptions,
  HydrateOptions,
} from './core/hydration'
export type { JsonValue } from './core/dehydratedValue'

// The client for a tree
export { ShapeClientProvider, ShapeClientContext } from './react/ShapeClientProvider'
export type { ShapeClientProviderProps } from './react/ShapeClientProvider'
export { useShapeClient, resetDefaultShapeClient } from './react/useShapeClient'

// Rows and state
export { useShape } from './react/useShape'
export type { UseShapeOptions } from './react/useShape'
export type { UseShapeResult } from './react/shapeResult'
export { useSuspenseShape } from './react/useSuspenseShape'
export type { UseSuspenseShapeOptions, UseSuspenseShapeResult } from './react/useSuspenseShape'
export { shallow } from './react/shallow'

// Status, per-row rendering and long lists
export { useShapeStatus } from './react/useShapeStatus'
export { useRetainedShape } from './react/useRetainedShape'
export type { ShapeHookOptions, ShapeSource } from './react/useRetainedShape'
export { useShapeRow } from './react/useShapeRow'
export { useShapeKeys } from './react/useShapeKeys'
export { ShapeRowList } from './react/ShapeRowList'
export type { ShapeRowListProps, ShapeRowGroupInfo } from './react/ShapeRowList'

// Server rendering
export { HydrationBoundary } from './react/HydrationBoundary'
export type { HydrationBoundaryProps } from './react/HydrationBoundary'
