/** The values of `$1` (used where a number goes) and `$2` (where text goes) in generated clauses. */
export const GENERATED_PARAMS: readonly string[] = ['2', 'abc']

/**
 * Generates random where clauses over the `allTypes` table for the differential test: well-typed enough that
 * most compile, hostile enough to reach NULLs, overflow, division by zero and bad casts.
 */

export type Random = () => number

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
export function seededRandom(seed: number): Random {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}

const INTEGER_COLUMNS = ['i2', 'i4', 'i8', 'id']
const NUMBER_COLUMNS = [...INTEGER_COLUMNS, 'f4', 'f8', 'n']
const NUMBER_LITERALS = ['0', '1', '-2', '3', '2.5', '-0.1', '100000', "'1.5'::float8", "'3'::int2", '2147483647', 'NULL', '$1']
const TEXT_COLUMNS = ['t', 'vc', 'c', '"Mixed Case"']
const TEXT_LITERALS = ["''", "'a'", "'abc'", "'ABC'", "'Été'", "'zz'", "'😀'", "'ab'", "'a1'", 'NULL', '$2']
const PATTERNS = ["'a%'", "'%c'", "'_'", "'%'", String.raw`'a\%c'`, "'é%'", "'%b%'", "''"]
const DATE_EXPRESSIONS = ['d', 'ts', 'tz', "'2024-01-01'::date", "'2024-01-01 12:00:00'::timestamp", "'2024-01-01 01:00:00+02'::timestamptz"]

function numberExpr(random: Random, depth: number): string {
  const choice = random()
  if (depth <= 0 || choice < 0.35) return pick(random, NUMBER_COLUMNS)
  if (choice < 0.5) return pick(random, NUMBER_LITERALS)
  if (choice < 0.8) {
    const operator = pick(random, ['+', '-', '*', '/', '%'])
    return `(${numberExpr(random, depth - 1)} ${operator} ${numberExpr(random, depth - 1)})`
  }
  if (choice < 0.87) return `abs(${numberExpr(random, depth - 1)})`
  if (choice < 0.93) return `-(${numberExpr(random, depth - 1)})`
  if (choice < 0.97) return `COALESCE(${numberExpr(random, depth - 1)}, ${numberExpr(random, depth - 1)})`
  return `length(${textExpr(random, depth - 1)})`
}

function textExpr(random: Random, depth: number): string {
  const choice = random()
  if (depth <= 0 || choice < 0.4) return pick(random, TEXT_COLUMNS)
  if (choice < 0.55) return pick(random, TEXT_LITERALS)
  if (choice < 0.7) return `${pick(random, ['lower', 'upper'])}(${textExpr(random, depth - 1)})`
  if (choice < 0.85) return `(${textExpr(random, depth - 1)} || ${textExpr(random, depth - 1)})`
  if (choice < 0.92) return `${pick(random, INTEGER_COLUMNS)}::text`
  return `COALESCE(${textExpr(random, depth - 1)}, ${textExpr(random, depth - 1)})`
}

/** A random boolean expression of bounded depth. */
export function boolExpr(random: Random, depth: number): string {
  const choice = random()
  const comparison = () => pick(random, ['=', '<>', '<', '<=', '>', '>='])
  if (depth <= 0 || choice < 0.15) return `${numberExpr(random, depth)} ${comparison()} ${numberExpr(random, depth)}`
  if (choice < 0.27) return `${textExpr(random, depth)} ${comparison()} ${textExpr(random, depth)}`
  if (choice < 0.35) {
    const operator = pick(random, ['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE', '~~', '!~~*'])
    return `${pick(random, ['t', 'vc', 'lower(t)', "t || 'c'"])} ${operator} ${pick(random, PATTERNS)}`
  }
  if (choice < 0.42) {
    const column = pick(random, [...NUMBER_COLUMNS, ...TEXT_COLUMNS, 'b', 'd', 'ts', 'tz', 'j', 'tags', 'm', 'u'])
    return `${column} IS ${random() < 0.5 ? 'NOT ' : ''}NULL`
  }
  if (choice < 0.47) return pick(random, ['b', 'NOT b', 'b IS TRUE', 'b IS NOT FALSE', 'b IS UNKNOWN', 'b = (i4 > 1)'])
  if (choice < 0.53) return `${pick(random, DATE_EXPRESSIONS)} ${comparison()} ${pick(random, DATE_EXPRESSIONS)}`
  if (choice < 0.6) {
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, NUMBER_LITERALS))
    return `${numberExpr(random, depth - 1)} ${random() < 0.5 ? 'NOT ' : ''}IN (${items.join(', ')})`
  }
  if (choice < 0.66) {
    const kind = pick(random, ['BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC'])
    return `${numberExpr(random, depth - 1)} ${kind} ${pick(random, NUMBER_LITERALS)} AND ${pick(random, NUMBER_LITERALS)}`
  }
  if (choice < 0.7) {
    const negated = random() < 0.5 ? 'NOT ' : ''
    return `${numberExpr(random, depth - 1)} IS ${negated}DISTINCT FROM ${numberExpr(random, depth - 1)}`
  }
  if (choice < 0.74) return `${textExpr(random, depth - 1)}::int4 > 0`
  if (choice < 0.85) return `(${boolExpr(random, depth - 1)}) AND (${boolExpr(random, depth - 1)})`
  if (choice < 0.95) return `(${boolExpr(random, depth - 1)}) OR (${boolExpr(random, depth - 1)})`
  return `NOT (${boolExpr(random, depth - 1)})`
}
