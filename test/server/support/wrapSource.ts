/**
 * A `ChangeSource` that forwards every call to another one, except those a test overrides (to count calls, fail on
 * demand or report a failure).
 */
import type { ChangeSource } from '../../../src/server/sources/source'

/** `source` with `overrides` in place of its own methods; everything else is forwarded. */
export function wrapSource(source: ChangeSource, overrides: Partial<ChangeSource>): ChangeSource {
  return {
    kind: source.kind,
    describeTable: (schema, name) => source.describeTable(schema, name),
    snapshot: (request) => source.snapshot(request),
    subscribe: (listener) => source.subscribe(listener),
    currentLsn: () => source.currentLsn(),
    close: () => source.close(),
    ...overrides,
  }
}
