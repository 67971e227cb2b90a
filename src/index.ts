/**
 * `live-shapes`: React hooks over live shapes. The core is re-exported so one import serves an app.
 */
export * from './core/index'
export * from './react/index'
