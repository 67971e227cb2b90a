/**
 * `live-shapes/core`: the framework-free protocol client and shape store. No React in here (see docs/ARCHITECTURE.md).
 */
export * from './protocol'
export * from './offset'
export * from './errors'
export * from './responseMeta'
