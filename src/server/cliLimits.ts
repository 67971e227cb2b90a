/**
 * The `live-shapes dev` flags of the handler's resource bounds (handlerLimits.ts), kept apart from `cli.ts` so the
 * CLI names them in one line each: the parseArgs specs, the usage lines and their mapping onto handler options.
 *
 * Invariants:
 * - Every flag takes a positive integer (checked here, refused with a `CliUsageError`-compatible message);
 *   an absent flag leaves the handler's default.
 */
import type { HandlerLimitOptions } from './handlerLimits'

interface LimitFlag {
  flag: string
  arg: string
  usage: string
  apply(options: HandlerLimitOptions, value: number): void
}

const FLAGS: readonly LimitFlag[] = [
  { flag: 'snapshot-timeout', arg: '<ms>', usage: 'statement timeout of snapshot queries (default 10000)', apply: (o, v) => (o.snapshotTimeoutMs = v) },
  { flag: 'max-concurrent-snapshots', arg: '<n>', usage: 'snapshot queries run at once (default 3)', apply: (o, v) => (o.maxConcurrentSnapshots = v) },
  { flag: 'max-shapes', arg: '<n>', usage: 'shapes kept before idle ones are evicted (default 1000)', apply: (o, v) => (o.maxShapes = v) },
  { flag: 'max-shape-bytes', arg: '<n>', usage: 'approximate bytes of shape data kept (default 268435456)', apply: (o, v) => (o.maxShapeBytes = v) },
  { flag: 'max-subset-rows', arg: '<n>', usage: 'rows one subset snapshot answers (default 10000)', apply: (o, v) => (o.maxSubsetRows = v) },
  { flag: 'max-subset-bytes', arg: '<n>', usage: 'approximate bytes one subset snapshot answers (default 10485760)', apply: (o, v) => (o.maxSubsetBytes = v) },
  { flag: 'max-where-chars', arg: '<n>', usage: 'longest where accepted (default 16384)', apply: (o, v) => ((o.whereLimits ??= {}).maxWhereChars = v) },
  { flag: 'max-list-items', arg: '<n>', usage: 'longest IN list / AND-OR chain in a where (default 1000)', apply: (o, v) => ((o.whereLimits ??= {}).maxListItems = v) },
]

/** parseArgs option specs of the limit flags. */
export const LIMIT_FLAG_SPECS: Readonly<Record<string, { type: 'string' }>> = Object.fromEntries(
  FLAGS.map((entry) => [entry.flag, { type: 'string' as const }]),
)

/** The usage lines of the limit flags. */
export const LIMIT_USAGE = FLAGS.map((entry) => `  ${`--${entry.flag} ${entry.arg}`.padEnd(24)} ${entry.usage}`).join('\n')

/**
 * The handler options of the limit flags in `values`; throws an `Error` whose message names a bad flag.
 * @example
 * const limits = limitsOfFlags(parsed.values)
 */
export function limitsOfFlags(values: Readonly<Record<string, unknown>>): HandlerLimitOptions {
  const options: HandlerLimitOptions = {}
  for (const entry of FLAGS) {
    const raw = values[entry.flag]
    if (raw === undefined) continue
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${entry.flag} must be a positive integer, got "${String(raw)}"`)
    entry.apply(options, value)
  }
  return options
}
