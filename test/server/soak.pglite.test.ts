/**
 * Soak on the embedded database: 10 live shapes (5 long-polling, 5 on SSE) of one PGlite table on the dev server
 * behind the fault proxy, a writer committing real SQL transactions (inserts, updates, deletes, primary-key changes,
 * several rows at once) as fast as PGlite takes them up to ~60/s, the proxy cutting a live response every 300 ms.
 * The memory-source soak (soak.test.ts) proves the client and handler hold sockets, timers and memory flat; this one
 * proves the PGlite source delivers every committed transaction once, whole and in commit order while shapes are
 * created, read and cut around it, over change ids that cross several powers of ten (a text-ordered read of the
 * change rows split and repeated transactions there):
 * - no change lost: once the writer stops, every shape equals `SELECT` of its definition and is live;
 * - no change applied twice or out of order: per row, the write sequence number `n` a shape shows never goes down;
 * - no unhandled rejection or exception.
 * Bounded form in the normal suite (~8 s of writing); `LIVE_SHAPES_SOAK=1` writes for `LIVE_SHAPES_SOAK_SECONDS` (60).
 */
import { describe, expect, it } from 'vitest'
import { ShapeClient } from '../../src/core/shapeClient'
import { createShapeHandler } from '../../src/server/handler'
import { serveNode } from '../../src/server/nodeAdapter'
import { createPGliteSource } from '../../src/server/sources/pglite'
import { seededRandom, startFaultProxy } from './support/faultProxy'
import { fingerprint, type FaultRow } from './support/faultScenario'
import { converged, soakShapeOptions, watchShape, type WatchedShape } from './support/soakShapes'

const SOAK = process.env['LIVE_SHAPES_SOAK'] === '1'
const WRITE_MS = SOAK ? Number(process.env['LIVE_SHAPES_SOAK_SECONDS'] ?? '60') * 1000 : 8_000
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

describe('soak on PGlite: 10 live shapes, a SQL writer, periodic cuts', () => {
  it(`delivers every transaction once, whole and in order (${WRITE_MS / 1000} s of writes)`, async () => {
    const source = await createPGliteSource()
    await source.db.exec('CREATE TABLE soak (id int4 PRIMARY KEY, grp text NOT NULL, v int4 NOT NULL, n int4 NOT NULL)')
    const random = seededRandom(20261207)
    const model = new Map<number, FaultRow>()
    let nextId = 1
    for (let i = 0; i < 50; i++) model.set(nextId, { id: nextId++, grp: GROUPS[i % GROUPS.length] as string, v: (i * 37) % 100, n: 0 })
    await source.db.query(
      `INSERT INTO soak (id, grp, v, n) SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id int4, grp text, v int4, n int4)`,
      [JSON.stringify([...model.values()])],
    )

    const handler = createShapeHandler({ source, allowDelete: true, longPollTimeoutMs: 1000, sseTimeoutMs: 4000, keepAliveMs: 500 })
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
          const shape = client.shape(soakShapeOptions(proxy.url, 'soak', definition.where))
          releases.push(shape.retain())
          watched.push(watchShape(shape, index, clientIndex === 1))
        })
      })
      await Promise.all(watched.map((entry) => entry.shape.whenUpToDate()))

      // The writer, at most TX_PER_SECOND. Every 40th round the change id sequence jumps to just below the next power
      // of ten (as a long-lived database's would be) and three transactions are issued at once, so the source's next
      // read of the change rows holds several transactions on both sides of the boundary.
      const started = Date.now()
      let seq = 0
      let round = 0
      let power = 100
      let lastCut = 0
      let cuts = 0
      const writeOne = (): Promise<void> => {
        seq += 1
        const stamp = seq
        return source.db.transaction(async (tx) => {
          const ops = 1 + Math.floor(random() * 4)
          for (let i = 0; i < ops; i++) {
            const ids = [...model.keys()]
            const roll = random()
            const pickId = ids[Math.floor(random() * ids.length)] as number
            if (ids.length < 30 || roll < 0.25) {
              const row = { id: nextId++, grp: GROUPS[Math.floor(random() * GROUPS.length)] as string, v: Math.floor(random() * 100), n: stamp }
              model.set(row.id, row)
              await tx.query('INSERT INTO soak (id, grp, v, n) VALUES ($1, $2, $3, $4)', [row.id, row.grp, row.v, row.n])
            } else if (ids.length > 80 || roll < 0.45) {
              model.delete(pickId)
              await tx.query('DELETE FROM soak WHERE id = $1', [pickId])
            } else if (roll < 0.7) {
              // A key change, often of a row this transaction created or changed already.
              const old = model.get(pickId) as FaultRow
              const row = { ...old, id: nextId++, n: stamp }
              model.delete(pickId)
              model.set(row.id, row)
              await tx.query('UPDATE soak SET id = $1, n = $2 WHERE id = $3', [row.id, stamp, pickId])
            } else {
              const row = { id: pickId, grp: GROUPS[Math.floor(random() * GROUPS.length)] as string, v: Math.floor(random() * 100), n: stamp }
              model.set(pickId, row)
              await tx.query('UPDATE soak SET grp = $1, v = $2, n = $3 WHERE id = $4', [row.grp, row.v, stamp, pickId])
            }
          }
        })
      }
      while (Date.now() - started < WRITE_MS) {
        round += 1
        if (round % 40 === 0) {
          if (power < 1e15) power *= 10
          await source.db.query(`SELECT setval('live_shapes.changes_id_seq', greatest($1::bigint, (SELECT last_value FROM live_shapes.changes_id_seq)))`, [power - 3])
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

      const { rows } = await source.db.query<FaultRow>('SELECT id, grp, v, n FROM soak')
      expect(fingerprint(rows)).toBe(fingerprint(model.values()))
      const unconverged = await Promise.all(
        watched.map((entry) => converged(entry, fingerprint(rows.filter((row) => DEFINITIONS[entry.definition]?.test(row) ?? true)), CONVERGE_MS)),
      )
      const changeIds = await source.db.query<{ last: string }>('SELECT last_value::text AS last FROM live_shapes.changes_id_seq')
      console.log(`soak (PGlite): ${JSON.stringify({ transactions: seq, lastChangeId: changeIds.rows[0]?.last, cuts, faults: proxy.counts })}`)
      expect(unhandled).toEqual([])
      expect(unconverged.filter((v) => v !== undefined)).toEqual([])
      expect(watched.flatMap((entry) => entry.violations)).toEqual([])
      // The run crossed several powers of ten of change ids with transactions on both sides in one read.
      expect(Number(changeIds.rows[0]?.last)).toBeGreaterThan(100_000)
    } finally {
      for (const entry of watched) entry.stop()
      for (const release of releases) release()
      for (const client of clients) client.dispose()
      process.off('unhandledRejection', onUnhandled)
      process.off('uncaughtException', onUnhandled)
      await handler.close()
      await proxy.close()
      await server.close()
      await source.close()
    }
  }, WRITE_MS + CONVERGE_MS + 60_000)
})
