/**
 * Starts one project-local PostgreSQL for the whole test run and hands its URL to tests as
 * `inject('databaseUrl')` (and `process.env.DATABASE_URL`); stops it at teardown.
 *
 * Invariants:
 * - T1. Missing PostgreSQL binaries fail the run with the install command, in CI and locally: a suite that
 *   silently skips its logical-replication tests would report a green run that proved nothing.
 * - T2. The cluster listens on a free port from 54329 up and lives in `.tmp/pg-test-<pid>`, so concurrent runs
 *   (even in this checkout) and other PostgreSQL servers on the machine are never touched.
 */
import type { TestProject } from 'vitest/node'
import { rm } from 'node:fs/promises'
import { findFreePort, hasBinaries, start, type Cluster } from '../../../scripts/pg-cluster.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!(await hasBinaries())) {
    throw new Error(
      'PostgreSQL 15 is required by test/server (logical replication source): ' +
        'run `apt-get update && apt-get install -y postgresql` (or set PG_BIN to the directory holding initdb).',
    )
  }
  const dir = `.tmp/pg-test-${process.pid}`
  const cluster = await startOnFreePort(dir)
  project.provide('databaseUrl', cluster.url)
  process.env['DATABASE_URL'] = cluster.url
  return async () => {
    await cluster.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Concurrent runs may pick the same free port before either binds it: the loser moves on to the next one. */
async function startOnFreePort(dir: string): Promise<Cluster> {
  let from = 54329
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort(from)
    try {
      return await start({ dir, port })
    } catch (error) {
      if (attempt >= 5) throw error
      from = port + 1
    }
  }
}
