/**
 * The React binding of live-shapes. Imports core only through `src/core/index.ts`.
 */
export { ShapeClientProvider, ShapeClientContext } from './ShapeClientProvider'
export type { ShapeClientProviderProps } from './ShapeClientProvider'
export { useShapeClient, resetDefaultShapeClient } from './useShapeClient'
export { useShape } from './useShape'
export type { UseShapeOptions } from './useShape'
export type { UseShapeResult } from './shapeResult'
export { useRetainedShape } from './useRetainedShape'
export type { ShapeHookOptions, ShapeSource } from './useRetainedShape'
export { useShapeStatus } from './useShapeStatus'
export { useShapeRow } from './useShapeRow'
export { useShapeKeys } from './useShapeKeys'
export { useSuspenseShape } from './useSuspenseShape'
export type { UseSuspenseShapeOptions } from './useSuspenseShape'
export { shallow } from './shallow'
export { HydrationBoundary } from './HydrationBoundary'
export type { HydrationBoundaryProps } from './HydrationBoundary'
