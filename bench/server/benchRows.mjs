/**
 * Deterministic rows and wire messages of the bench table (`id int8` pk, `title text`, `priority int4`,
 * `done bool`, `payload jsonb`).
 *
 * Rules:
 * - Row `i` is a pure function of `i`: every process (server, parse floor, both clients) sees the same bytes.
 * - Values are Postgres text output (SHAPE-PROTOCOL §3.4): numbers, booleans and jsonb travel as strings.
 * - The serialized `value` of a snapshot row is about 180 bytes, so rows stay realistic and comparable.
 */

/** `electric-schema` of the bench table. */
export const BENCH_SCHEMA = {
  id: { type: 'int8', pk_index: 0, not_null: true },
  title: { type: 'text' },
  priority: { type: 'int4' },
  done: { type: 'bool' },
  payload: { type: 'jsonb' },
}

const WORDS = ['ship', 'review', 'design', 'sync', 'deploy', 'refactor', 'measure', 'document', 'triage', 'fix',
  'render', 'cache', 'shape', 'stream', 'query', 'index']
const OWNERS = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'edsger', 'frances']

/** Small integer hash: deterministic pseudo-randomness without state, so row `i` is the same bytes everywhere. */
function mix(n) {
  let x = (n ^ 0x9e3779b9) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0
  return (x ^ (x >>> 16)) >>> 0
}

/** The wire row (`value` of the insert) for id `i`. */
export function benchRow(i) {
  const h = mix(i)
  const payload = {
    owner: OWNERS[h % OWNERS.length],
    tags: [WORDS[h % 16], WORDS[(h >>> 4) % 16]],
    estimate: (h >>> 8) % 13,
    v: 1,
    due: `2026-${String(1 + ((h >>> 12) % 12)).padStart(2, '0')}-${String(1 + ((h >>> 16) % 28)).padStart(2, '0')}`,
  }
  return {
    id: String(i),
    title: `${WORDS[(h >>> 20) % 16]} ${WORDS[(h >>> 24) % 16]} #${i}`,
    priority: String(h % 5),
    done: h % 3 === 0 ? 'true' : 'false',
    payload: JSON.stringify(payload),
  }
}

/** The shape key of id `i` in `table` (SHAPE-PROTOCOL §3.2). */
export function benchKey(table, i) {
  return `"public"."${table}"/"${i}"`
}

/** One snapshot insert message as JSON text. */
export function snapshotInsertJson(table, i) {
  return JSON.stringify({
    key: benchKey(table, i),
    value: benchRow(i),
    headers: { operation: 'insert', relation: ['public', table] },
  })
}

/**
 * The ids touched by scripted transaction `tx` (1-based) of `size` single-row updates over a table of `rows` rows:
 * consecutive slots of a fixed permutation of the ids (stride 7919, a prime that divides no bench row count), so
 * the rows are spread over the whole table, distinct within and across transactions until the table wraps.
 */
export function scriptedTxIds(tx, size, rows) {
  const ids = []
  for (let k = 0; k < size; k++) ids.push(1 + ((((tx - 1) * size + k) * 7919) % rows))
  return ids
}
