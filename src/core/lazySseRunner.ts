/**
 * The default live runner of `ShapeClient`: SSE, with its code loaded on the first SSE connection.
 *
 * Invariants:
 * - Until the first `run`, nothing of the SSE stack is loaded: a `import()` an app bundler splits into its own
 *   chunk, so apps that never use `liveSse` do not ship it. Afterwards every call goes to one `sseRunner` built for
 *   this stream (sseRunner.ts: one runner per stream), so behaviour is exactly `sseRunner`'s.
 * - Before the load, the runner reports what a fresh `sseRunner` would: enabled, no fallback reason, the same
 *   `extraParams`. A failed load rejects that `run` (the stream's retry policy applies) and is retried next time.
 */
import type { LiveRequestRunner, LiveRunnerFactory } from './liveRunner'
import { SSE_LIVE_PARAMS } from './protocol'

/**
 * `sseRunner`, loaded when first needed.
 * @example
 * const client = new ShapeClient({ liveSse: true, liveRunner: lazySseRunner }) // the default
 */
export const lazySseRunner: LiveRunnerFactory = (context) => {
  let runner: LiveRequestRunner | undefined
  const load = async (): Promise<LiveRequestRunner> => {
    const { sseRunner } = await import('./sseRunner')
    runner ??= sseRunner(context)
    return runner
  }
  return {
    transport: 'sse',
    extraParams: SSE_LIVE_PARAMS,
    isEnabled: () => runner?.isEnabled() ?? true,
    fallbackReason: () => runner?.fallbackReason(),
    onReset: () => runner?.onReset?.(),
    run: async (request, sink) => (runner ?? (await load())).run(request, sink),
  }
}
