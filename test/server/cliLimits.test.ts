/** The resource-bound flags of `live-shapes dev` (cliLimits.ts). */
import { describe, expect, it } from 'vitest'
import { CliUsageError, parseDevArgs, USAGE } from '../../src/server/cli'

describe('live-shapes dev limit flags', () => {
  it('maps each flag onto the handler option it names', () => {
    const options = parseDevArgs([
      'dev',
      '--snapshot-timeout', '5000',
      '--max-concurrent-snapshots', '2',
      '--max-shapes', '50',
      '--max-shape-bytes', '1000000',
      '--max-subset-rows', '500',
      '--max-subset-bytes', '65536',
      '--max-where-chars', '4096',
      '--max-list-items', '100',
    ])
    expect(options).toEqual({
      limits: {
        snapshotTimeoutMs: 5000,
        maxConcurrentSnapshots: 2,
        maxShapes: 50,
        maxShapeBytes: 1_000_000,
        maxSubsetRows: 500,
        maxSubsetBytes: 65_536,
        whereLimits: { maxWhereChars: 4096, maxListItems: 100 },
      },
    })
    expect(parseDevArgs(['dev'])).toEqual({})
  })

  it('refuses a value that is not a positive integer, naming the flag', () => {
    expect(() => parseDevArgs(['dev', '--max-shapes', '0'])).toThrow(CliUsageError)
    expect(() => parseDevArgs(['dev', '--snapshot-timeout', '1.5'])).toThrow(/--snapshot-timeout/)
  })

  it('lists the flags in the usage', () => {
    for (const flag of ['--snapshot-timeout', '--max-concurrent-snapshots', '--max-shapes', '--max-shape-bytes', '--max-subset-rows', '--max-subset-bytes', '--max-where-chars', '--max-list-items']) {
      expect(USAGE).toContain(flag)
    }
  })
})
