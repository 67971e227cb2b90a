/**
 * `live-shapes/server`: a development shape server speaking Electric's `/v1/shape` protocol. Node only.
 */
export type * from './sources/source'
export { createShapeHandler } from './handler'
export type { ShapeHandler, ShapeHandlerOptions } from './handler'
export { serveNode } from './nodeAdapter'
export type { NodeServer, ServeNodeOptions } from './nodeAdapter'
export { createMemorySource } from './sources/memory'
export type {
  MemorySource,
  MemoryTableInit,
  MemoryColumnInit,
  MemoryRow,
  MemoryValue,
  MemoryTableRef,
  MemoryTransaction,
} from './sources/memory'
export { nextCursor } from './cursor'
export { createPGliteSource } from './sources/pglite'
export type { PGliteSource, PGliteSourceOptions } from './sources/pglite'
export { TableAccessError } from './tableAccess'
export type { TableAccessOptions } from './tableAccess'
export type { CorsOptions, CorsOrigins } from './corsPolicy'
export type { ShapeHandlerStats } from './handlerLimits'
export { DEFAULT_WHERE_LIMITS } from './where/whereLimits'
export type { WhereLimits } from './where/whereLimits'
