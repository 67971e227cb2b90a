/**
 * The soak of a SQL source (soak.pglite.test.ts, soak.postgres.test.ts): 10 live shapes (5 long-polling, 5 on SSE)
 * of one table on the dev server behind the fault proxy, a writer committing SQL transactions (inserts, updates,
 * deletes, primary-key changes, one to four rows each) at up to 60/s, the proxy cutting a live response every 300 ms.
 * Where the database allows it (`burst`), every 40th round runs a hook (PGlite: jump its change id sequence below the
 * next power of ten) and issues three transactions at once, so one read of the source holds several transactions.
 * Checks, as the memory soak does for the client and handler:
 * - no change lost: once the writer stops, every shape equals `SELECT` of its definition and is live;
 * - no change applied twice or out of order: per row, the write sequence number `n` a shape shows never goes down;
 * - no unhandled rejection or exception.
 */
import { expect } from 'vitest'
import { ShapeClient } from '../../../src/core/shapeClient'
import { createShapeHandler } from '../../../src/server/handler'
import { serveNode } from '../../../src/server/nodeAdapter'
import type { ChangeSource } from '../../../src/server/sources/source'
import { seededRandom, startFaultProxy } from './faultProxy'
import { fingerprint, type FaultRow } from './faultScenario'
import { converged, soakShapeOptions, watchShape, type WatchedShape } from './soakShapes'

/** Parameterised SQL on one connection or transaction; returns the rows. */
export type SoakQuery = (sql: string, params?: readonly unknown[]) => Promise<readonly Record<string, unknown>[]>

/** The database a soak writes to, and the source that captures it. */
export interface SoakDatabase {
  readonly name: string
  readonly source: ChangeSource
  /** A table name of this run (`CREATE TABLE` is the soak's). */
  readonly table: string
  query: SoakQuery
  transaction(run: (query: SoakQuery) => Promise<void>): Promise<void>
  /** Transactions issued at once commit in the order they were issued (one connection): bursts are allowed. */
  burst?: { before: (round: number) => Promise<void> }
}

/** What a soak did, for its log line. */
export interface SoakReport {
  transactions: number
  cuts: number
  faults: Record<string, number>
}

const TX_PER_SECOND = 60
const CONVERGE_MS = 30_000
const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4']

const DEFINITIONS: { where: string | undefined; test: (row: FaultRow) => boolean }[] = [
  { where: undefined, test: () => true },
  { where: "grp = 'g0'", test: (row) => row.grp === 'g0' },
  { where: 'v >= 50', test: (row) => row.v >= 50 },
  { where: "grp = 'g1' OR v < 20", test: (row) => row.grp === 'g1' || row.v < 20 },
  { where: "grp = 'g2' AND v < 50", test: (row) => row.grp === 'g2' && row.v < 50 },
]

/** Runs the soak for `writeMs` of writing and asserts its checks. */
export async function runSqlSoak(db: SoakDatabase, writeMs: number): Promise<SoakReport> {
  const { table } = db
  await db.query(`CREATE TABLE "${table}" (id int4 PRIMARY KEY, grp text NOT NULL, v int4 NOT NULL, n int4 NOT NULL)`)
  const random = seededRandom(20261207)
  const model = new Map<number, FaultRow>()
  let nextId = 1
  for (let i = 0; i < 50; i++) model.set(nextId, { id: nextId++, grp: GROUPS[i % GROUPS.length] as string, v: (i * 37) % 100, n: 0 })
  await db.query(
    `INSERT INTO "${table}" (id, grp, v, n) SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id int4, grp text, v int4, n int4)`,
    [JSON.stringify([...model.values()])],
  )

  const handler = createShapeHandler({ source: db.source, allowDelete: true, longPollTimeoutMs: 1000, sseTimeoutMs: 4000, keepAliveMs: 500 })
  const server = await serveNode(handler, { port: 0 })
  const proxy = await startFaultProxy({ upstream: server.url, random: seededRandom(11), maxStallMs: 200 })
  const unhandled: string[] = []
  const onUnhandled = (error: unknown): void => void unhandled.push(String(error))
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
  const clients = [false, true].map((liveSse, index) => new ShapeClient({ random: seededRandom(index + 1), visibility: null, liveSse, gracePeriodMs: 0 }))
  const watched: WatchedShape[] = []
  const releases: (() => void)[] = []
  try {
    clients.forEach((client, clientIndex) => {
      DEFINITIONS.forEach((definition, index) => {
        const shape = client.shape(soakShapeOptions(proxy.url, table, definition.where))
        releases.push(shape.retain())
        watched.push(watchShape(shape, index, clientIndex === 1))
      })
    })
    await Promise.all(watched.map((entry) => entry.shape.whenUpToDate()))

    const started = Date.now()
    let seq = 0
    let round = 0
    let lastCut = 0
    let cuts = 0
    // The model is updated as each transaction's statements are issued, in issue order, which is commit order
    // because transactions are issued one after another (or, in a burst, on one connection).
    const writeOne = (): Promise<void> => {
      seq += 1
      const stamp = seq
      return db.transaction(async (query) => {
        const ops = 1 + Math.floor(random() * 4)
        for (let i = 0; i < ops; i++) {
          const ids = [...model.keys()]
          const roll = random()
          const pickId = ids[Math.floor(random() * ids.length)] as number
          if (ids.length < 30 || roll < 0.25) {
            const row = { id: nextId++, grp: GROUPS[Math.floor(random() * GROUPS.length)] as string, v: Math.floor(random() * 100), n: stamp }
            model.set(row.id, row)
            await query(`INSERT INTO "${table}" (id, grp, v, n) VALUES ($1, $2, $3, $4)`, [row.id, row.grp, row.v, row.n])
          } else if (ids.length > 80 || roll < 0.45) {
            model.delete(pickId)
            await query(`DELETE FROM "${table}" WHERE id = $1`, [pickId])
          } else if (roll < 0.7) {
            // A key change, sometimes of a row this transaction created or changed already.
            const old = model.get(pickId) as FaultRow
            const row = { ...old, id: nextId++, n: stamp }
            model.delete(pickId)
            model.set(row.id, row)
            await query(`UPDATE "${table}" SET id = $1, n = $2 WHERE id = $3`, [row.id, stamp, pickId])
          } else {
            const row = { id: pickId, grp: GROUPS[Math.floor(random() * GROUPS.length)] as string, v: Math.floor(random() * 100), n: stamp }
            model.set(pickId, row)
            await query(`UPDATE "${table}" SET grp = $1, v = $2, n = $3 WHERE id = $4`, [row.grp, row.v, stamp, pickId])
          }
        }
      })
    }
    while (Date.now() - started < writeMs) {
      round += 1
      if (db.burst !== undefined && round % 40 === 0) {
        await db.burst.before(round)
        await Promise.all([writeOne(), writeOne(), writeOne()])
      } else {
        await writeOne()
      }
      const elapsed = Date.now() - started
      if (elapsed - lastCut >= 300) {
        lastCut = elapsed
        proxy.arm({ kind: 'cut', target: cuts % 2 === 0 ? 'sse' : 'live' })
        cuts += 1
      }
      const due = (seq * 1000) / TX_PER_SECOND - elapsed
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
    }
    proxy.calm()

    const rows = (await db.query(`SELECT id, grp, v, n FROM "${table}"`)).map((row) => ({
      id: Number(row['id']),
      grp: String(row['grp']),
      v: Number(row['v']),
      n: Number(row['n']),
    }))
    expect(fingerprint(rows)).toBe(fingerprint(model.values()))
    const unconverged = await Promise.all(
      watched.map((entry) => converged(entry, fingerprint(rows.filter((row) => DEFINITIONS[entry.definition]?.test(row) ?? true)), CONVERGE_MS)),
    )
    const report: SoakReport = { transactions: seq, cuts, faults: { ...proxy.counts } }
    console.log(`soak (${db.name}): ${JSON.stringify(report)}`)
    expect(unhandled).toEqual([])
    expect(unconverged.filter((v) => v !== undefined)).toEqual([])
    expect(watched.flatMap((entry) => entry.violations)).toEqual([])
    return report
  } finally {
    for (const entry of watched) entry.stop()
    for (const release of releases) release()
    for (const client of clients) client.dispose()
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUnhandled)
    await handler.close()
    await proxy.close()
    await server.close()
  }
}

/** The test timeout of a soak of `writeMs`. */
export function soakTimeoutMs(writeMs: number): number {
  return writeMs + CONVERGE_MS + 60_000
}
