/**
 * `live-shapes`: React hooks over live shapes, and everything of `live-shapes/core`, so one import serves an app.
 *
 * The public names are listed once, explicitly, in `src/core/index.ts` and `src/react/index.ts`; this entry is
 * exactly their union (test/publicApi.test.ts checks it, name by name), so a new public name is added in one place.
 */
export * from './core/index'
export * from './react/index'
