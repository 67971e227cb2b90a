/**
 * The demo's background writer: another user's transactions on `items`, at a steady rate, so the page has something
 * to follow. Mostly updates, sometimes an insert or a delete, keeping the table between 15 and 30 rows.
 *
 * Invariant: writes are chained, never concurrent, so `stop()` resolves after the last one committed.
 */

const TITLES = ['Buy milk', 'Write docs', 'Fix the build', 'Review PR', 'Call Ana', 'Plan sprint', 'Ship it', 'Water plants']

/**
 * @param {import('@electric-sql/pglite').PGlite} db
 * @param {{ intervalMs?: number, random?: () => number }} [options]
 */
export function createWriter(db, { intervalMs = 500, random = Math.random } = {}) {
  let timer
  let writes = 0
  let chain = Promise.resolve()
  const pick = (list) => list[Math.floor(random() * list.length)]

  async function writeOnce() {
    const { rows } = await db.query('SELECT id FROM items ORDER BY id')
    const ids = rows.map((row) => Number(row.id))
    const roll = random()
    if ((roll < 0.15 && ids.length < 30) || ids.length < 15) {
      await db.query('INSERT INTO items (title, priority) VALUES ($1, $2)', [pick(TITLES), Math.floor(random() * 5)])
    } else if (roll < 0.3) {
      await db.query('DELETE FROM items WHERE id = $1', [pick(ids)])
    } else {
      await db.query('UPDATE items SET priority = $2, done = NOT done WHERE id = $1', [pick(ids), Math.floor(random() * 5)])
    }
    writes += 1
  }

  const tick = () => {
    chain = chain.then(writeOnce).catch((error) => console.error('demo: write failed:', error))
  }

  return {
    get running() {
      return timer !== undefined
    },
    get writes() {
      return writes
    },
    intervalMs,
    start() {
      timer ??= setInterval(tick, intervalMs)
    },
    async stop() {
      clearInterval(timer)
      timer = undefined
      await chain
    },
  }
}
