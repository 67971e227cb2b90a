/**
 * The default live runner of `ShapeClient`: SSE, with its code loaded on the first SSE connection.
 *
 * Invariants:
 * - Until the first `run`, nothing of the SSE stack is loaded: a `import()` an app bundler splits into its own
 *   chunk, so apps that never use `liveSse` do not ship it. Afterwards every call goes to one `sseRunner` built for
 *   this stream (sseRunner.ts: one runner per stream), so behaviour is exactly `sseRunner`'s.
 * - Before the load, the runner reports what a fresh `sseRunner` would: enabled, no fallback reason, the same
 *   `extraParams`.
 * - A failed load (the chunk is gone after a deploy, the network dropped while it loaded) falls back to long-polling:
 *   that `run` ends as a connection that delivered nothing, the runner reports itself disabled with the load error
 *   as `fallbackReason`, and the stream's next live request long-polls. Live updates never stop for want of the SSE
 *   code. A 409 (`onReset`) lets the next live request try the load again, as a fallen-back `sseRunner` tries SSE.
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
  let loadFailure: string | undefined
  const load = async (): Promise<LiveRequestRunner | undefined> => {
    try {
      const { sseRunner } = await import('./sseRunner')
      runner ??= sseRunner(context)
    } catch (error) {
      loadFailure = `the SSE code could not be loaded (${error instanceof Error ? error.message : String(error)}), so live updates use long-polling`
    }
    return runner
  }
  return {
    transport: 'sse',
    extraParams: SSE_LIVE_PARAMS,
    isEnabled: () => loadFailure === undefined && (runner?.isEnabled() ?? true),
    fallbackReason: () => loadFailure ?? runner?.fallbackReason(),
    onReset: () => {
      loadFailure = undefined
      runner?.onReset?.()
    },
    run: async (request, sink) => {
      const startedAt = context.clock.now()
      const loaded = runner ?? (await load())
      if (loaded !== undefined) return loaded.run(request, sink)
      return { kind: 'closed', durationMs: context.clock.now() - startedAt, aborted: request.signal.aborted }
    },
  }
}
