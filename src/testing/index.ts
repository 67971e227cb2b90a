/**
 * `live-shapes/testing`: an in-process shape server and `fetch` for tests and stories.
 */
export { createTestShapeServer } from './createTestShapeServer'
export type { TestShapeServer, TestShapeServerOptions } from './createTestShapeServer'
export type { MemorySource, MemoryTableInit, MemoryColumnInit, MemoryRow, MemoryValue, MemoryTableRef, MemoryTransaction } from '../server/sources/memory'
