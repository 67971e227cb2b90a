/**
 * The React binding of live-shapes. Imports core only through `src/core/index.ts` and `src/core/internal.ts`.
 *
 * Every name below is a public promise, listed explicitly (test/publicApi.test.ts lists the runtime ones).
 */

// The client for a tree
export { ShapeClientProvider, ShapeClientContext } from './ShapeClientProvider'
export type { ShapeClientProviderProps } from './ShapeClientProvider'
export { useShapeClient, resetDefaultShapeClient } from './useShapeClient'

// Rows and state
export { useShape } from './useShape'
export type { UseShapeOptions } from './useShape'
export type { UseShapeResult } from './shapeResult'
export { useSuspenseShape } from './useSuspenseShape'
export type { UseSuspenseShapeOptions, UseSuspenseShapeResult } from './useSuspenseShape'

// Status, per-row rendering and long lists
export { useShapeStatus } from './useShapeStatus'
export { useRetainedShape } from './useRetainedShape'
export type { ShapeHookOptions, ShapeOrOptions, ShapeSource } from './useRetainedShape'
export { useShapeRow } from './useShapeRow'
export { useShapeKeys } from './useShapeKeys'
export { ShapeRowList } from './ShapeRowList'
export type { ShapeRowListProps, ShapeRowGroupInfo } from './ShapeRowList'

// Subset snapshots: load a page of rows into a shape
export { useSubsetSnapshot } from './useSubsetSnapshot'
export type { UseSubsetSnapshotResult } from './useSubsetSnapshot'

// Server rendering
export { HydrationBoundary } from './HydrationBoundary'
export type { HydrationBoundaryProps } from './HydrationBoundary'
export { StreamedHydration } from './StreamedHydration'
export type { StreamedHydrationProps } from './StreamedHydration'
export { useShapeMutation } from './useShapeMutation'
export type { UseShapeMutationOptions, UseShapeMutationResult, MutateCallbacks } from './useShapeMutation'
export { useShapeRowPending } from './useShapeRowPending'
