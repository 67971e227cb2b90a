/**
 * `live-shapes/testing`: an in-process shape server and `fetch` for tests and stories.
 */
export {}
