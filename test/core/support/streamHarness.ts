import type { Row } from '../../../src/core/protocol'
import type { ShapeStatus } from '../../../src/core/shapeStatus'
import type { ShapeStreamOptions } from '../../../src/core/shapeStream'
import { ShapeStore } from '../../../src/core/shapeStore'
import { ShapeStream } from '../../../src/core/shapeStream'
import { FakeShapeServer } from './fakeShapeServer'
import { ManualClock } from './manualClock'

export const BASE_URL = 'http://localhost:3000/v1/shape'

/** A stream wired to a fake server, a manual clock and a real store; records every status it publishes. */
export function streamHarness(overrides: Partial<ShapeStreamOptions<Row>> = {}) {
  const server = new FakeShapeServer()
  const clock = new ManualClock()
  const store = new ShapeStore<Row>({ now: () => clock.now() })
  const stream = new ShapeStream<Row>({
    url: BASE_URL,
    params: { table: 'items' },
    store,
    fetch: server.fetch,
    clock,
    random: () => 0.5,
    ...overrides,
  })
  const statuses: ShapeStatus[] = []
  stream.subscribeStatus(() => statuses.push(stream.getStatus()))
  return { server, clock, store, stream, statuses }
}

/** Resolves with the first status (current or future) that satisfies `predicate`. */
export function statusWhere(
  source: { getStatus(): ShapeStatus; subscribeStatus(listener: () => void): () => void },
  predicate: (status: ShapeStatus) => boolean,
): Promise<ShapeStatus> {
  return new Promise((resolve) => {
    if (predicate(source.getStatus())) {
      resolve(source.getStatus())
      return
    }
    const unsubscribe = source.subscribeStatus(() => {
      const status = source.getStatus()
      if (predicate(status)) {
        unsubscribe()
        resolve(status)
      }
    })
  })
}
