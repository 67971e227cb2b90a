/**
 * The public runtime names of every package entry, listed explicitly: every name is a semver promise, so adding or
 * removing one must show up here, in review. Type-only exports are checked by `tsc` (and listed in the indexes).
 */
import { describe, expect, it } from 'vitest'
import * as root from '../src/index'
import * as core from '../src/core/index'
import * as server from '../src/server/index'
import * as postgres from '../src/server/postgres'
import * as testing from '../src/testing/index'

const CORE: readonly string[] = [
  'DehydratedStateError',
  'FetchError',
  'InvalidOptionsError',
  'MalformedResponseError',
  'MalformedSchemaError',
  'MissingHeadersError',
  'NetworkError',
  'NullValueError',
  'ReservedParamError',
  'RetriesExhaustedError',
  'Shape',
  'ShapeClient',
  'ShapeError',
  'ShapeRequestError',
  'ValueParseError',
  'createColumnMapper',
  'defaultParser',
  'dehydrate',
  'dehydrateShapes',
  'hydrate',
  'parseDehydratedState',
  'parsePgArray',
  'prefetchShape',
  'serializeDehydratedState',
  'shallow',
  'shapeOptions',
  'snakeCamelMapper',
  'RepeatedMustRefetchError',
  'StaleResponseError',
  'RowKeyError',
  'TxidTimeoutError',
  'rowKey',
  'rowKeyOf',
  'memoryStorage',
  'indexedDBStorage',
  'browserPageHide',
  'browserConnectivity',
  'createYielder',
  'neverYield',
]
const REACT: readonly string[] = [
  'HydrationBoundary',
  'StreamedHydration',
  'ShapeClientContext',
  'ShapeClientProvider',
  'ShapeRowList',
  'resetDefaultShapeClient',
  'useRetainedShape',
  'useShape',
  'useShapeClient',
  'useShapeKeys',
  'useShapeRow',
  'useShapeStatus',
  'useSubsetSnapshot',
  'useSuspenseShape',
  'useShapeMutation',
  'useShapeRowPending',
]
const SERVER: readonly string[] = [
  'createMemorySource',
  'createPGliteSource',
  'createShapeHandler',
  'nextCursor',
  'serveNode',
  'TableAccessError',
  'DEFAULT_WHERE_LIMITS',
]
const POSTGRES: readonly string[] = ['ReplicationStreamError', 'createPostgresSource']
const TESTING: readonly string[] = ['createTestShapeServer']

const namesOf = (entry: object): string[] => Object.keys(entry).sort()

describe('public API', () => {
  it('live-shapes/core exports exactly its listed runtime names', () => {
    expect(namesOf(core)).toEqual([...CORE].sort())
  })
  it('live-shapes exports the core names and the React names, nothing else', () => {
    expect(namesOf(root)).toEqual([...CORE, ...REACT].sort())
  })
  it('live-shapes/server exports exactly its listed runtime names', () => {
    expect(namesOf(server)).toEqual([...SERVER].sort())
  })
  it('live-shapes/server/postgres exports exactly its listed runtime names', () => {
    expect(namesOf(postgres)).toEqual([...POSTGRES].sort())
  })
  it('live-shapes/testing exports exactly its listed runtime names', () => {
    expect(namesOf(testing)).toEqual([...TESTING].sort())
  })
})
