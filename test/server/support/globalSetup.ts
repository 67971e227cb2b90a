/**
 * Starts one project-local PostgreSQL for the whole test run and hands its URL to tests as
 * `inject('databaseUrl')` (and `process.env.DATABASE_URL`); stops it at teardown.
 *
 * Invariants:
 * - Missing PostgreSQL binaries fail the run with the install command, in CI and locally: a suite that
 *   silently skips its logical-replication tests would report a green run that proved nothing.
 * - The cluster listens on a free port from 54329 up and lives in `.tmp/pg-test-<pid>` (or the system temp dir
 *   when postgres cannot use the checkout), so concurrent runs (even in this checkout) and other PostgreSQL servers
 *   on the machine are never touched.
 */
import type { TestProject } from 'vitest/node'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
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
  const { cluster, dir } = await startSomewhere()
  project.provide('databaseUrl', cluster.url)
  process.env['DATABASE_URL'] = cluster.url
  return async () => {
    await cluster.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * In the project's `.tmp` first; in the system temp dir when the checkout is somewhere the postgres user cannot
 * reach (e.g. under /root) or its path is too long for a Unix socket.
 */
async function startSomewhere(): Promise<{ cluster: Cluster; dir: string }> {
  const candidates = [resolve(`.tmp/pg-test-${process.pid}`), join(tmpdir(), `live-shapes-pg-${process.pid}`)]
  const failures: string[] = []
  for (const dir of candidates) {
    try {
      return { cluster: await startOnFreePort(dir), dir }
    } catch (error) {
      failures.push(`${dir}: ${error instanceof Error ? error.message : String(error)}`)
      await rm(dir, { recursive: true, force: true })
    }
  }
  throw new Error(`could not start the test PostgreSQL:\n${failures.join('\n')}`)
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
