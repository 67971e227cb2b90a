/**
 * The options of `@electric-sql/client`'s `ShapeStream` (and so of `@electric-sql/react`'s `useShape`) that live-shapes
 * names differently or cannot honour: an Electric user's options object behaves as they expect, or fails loudly,
 * never silently differently.
 *
 * Invariants:
 * - `backoffOptions` is read as `backoff` (`initialDelay` → `initialDelayMs`, `maxDelay` → `maxDelayMs`, `multiplier`,
 *   `maxRetries`); a field also given in `backoff` wins. `experimentalLiveSse` is `liveSse` when that is unset.
 * - `handle`, and an `offset` other than `-1`, are refused with an `InvalidOptionsError` when the options are
 *   validated: a shape here holds its rows itself, so a stream started mid-log would show a shape missing every
 *   earlier row (and persist or share it as the whole shape). Positions are resumed by hydration or `persist`;
 *   `log: 'changes_only'` is the shape that starts empty, as `offset: 'now'` does.
 * - An Electric option with no effect here is named by one `console.warn` per option name per client, saying what to
 *   use instead; never thrown. Options that are not Electric's are ignored as before, without a word.
 */
import { InvalidOptionsError } from './errors'
import type { ShapeOptions } from './shapeOptions'

/**
 * `@electric-sql/client`'s `BackoffOptions`, as `useShape` users pass them in `backoffOptions`.
 * @example
 * const options = shapeOptions({ url, params: { table: 'todos' }, backoffOptions: { initialDelay: 100, maxDelay: 10_000, multiplier: 1.5 } })
 */
export interface ElectricBackoffOptions {
  initialDelay?: number
  maxDelay?: number
  multiplier?: number
  maxRetries?: number
  /** Not called here (warned once): read `useShapeStatus` (`phase: 'retrying'`, `nextRetryAt`) instead. */
  onFailedAttempt?: () => void
  /** Not used here (warned once). */
  debug?: boolean
}

/** Electric's options with no effect here, and what to use instead (`subscribe` only reaches `client.shape`). */
const UNUSED: Readonly<Record<string, string>> = {
  warnOnHttp: 'remove it',
  runtimeVisibility: 'use new ShapeClient({ visibility })',
  subsetMethod: 'subsets are sent as GET',
  subscribe: 'release the shape after shape.whenUpToDate()',
  'backoffOptions.onFailedAttempt': 'read shape.getStatus() (phase, nextRetryAt)',
  'backoffOptions.debug': 'read shape.getStatus()',
}

/** Electric's `backoffOptions` fields and ours. */
const BACKOFF_NAMES = [
  ['initialDelay', 'initialDelayMs'],
  ['maxDelay', 'maxDelayMs'],
  ['multiplier', 'multiplier'],
  ['maxRetries', 'maxRetries'],
] as const

/**
 * Throws `InvalidOptionsError` for Electric's stream position options (see the invariants).
 * @example
 * checkElectricPosition({ url, params: { table: 'todos' }, offset: 'now' }) // throws InvalidOptionsError
 */
export function checkElectricPosition(options: object): void {
  const { offset, handle } = options as { offset?: unknown; handle?: unknown }
  if ((offset === undefined || offset === '-1') && handle === undefined) return
  const name = handle === undefined ? `"offset" (${JSON.stringify(offset)})` : '"handle"'
  throw new InvalidOptionsError(
    `Shape option ${name} is not supported: a shape holds its own rows and resumes by hydration or \`persist\`; ` +
      `to start empty with only later changes (offset "now"), use \`log: 'changes_only'\``,
  )
}

/**
 * `options` with Electric's names read as ours (see the invariants); warns once per name in `warned` about the rest.
 * @example
 * fromElectricOptions({ url, params, backoffOptions: { initialDelay: 100 } }, new Set()).backoff // { initialDelayMs: 100 }
 */
export function fromElectricOptions<T>(options: ShapeOptions<T>, warned: Set<string>): ShapeOptions<T> {
  const given = options as unknown as Readonly<Record<string, unknown>>
  const electric = options.backoffOptions
  const unused = Object.keys(UNUSED).filter((name) => {
    const [option, field] = name.split('.') as [string, string | undefined]
    const value = field === undefined ? given[option] : (electric as Readonly<Record<string, unknown>> | undefined)?.[field]
    return value !== undefined && !(name === 'subsetMethod' && value === 'GET')
  })
  for (const name of unused) {
    if (warned.has(name)) continue
    warned.add(name)
    console.warn(`live-shapes: shape option "${name}" has no effect here: ${UNUSED[name]}`)
  }
  const liveSse = options.liveSse === undefined ? given['experimentalLiveSse'] : undefined
  if (electric === undefined && liveSse === undefined) return options
  const mapped: ShapeOptions<T> = { ...options }
  if (liveSse !== undefined) mapped.liveSse = liveSse as boolean
  if (electric !== undefined) {
    const ours: Readonly<Record<string, number | undefined>> = { ...options.backoff }
    const backoff: Record<string, number> = {}
    for (const [theirs, name] of BACKOFF_NAMES) {
      const value = ours[name] ?? electric[theirs]
      if (value !== undefined) backoff[name] = value
    }
    mapped.backoff = backoff
  }
  return mapped
}
