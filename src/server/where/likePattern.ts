/**
 * Postgres `LIKE` patterns, matched without regular expressions so a hostile pattern cannot backtrack
 * exponentially.
 *
 * Rules:
 * - `%` matches any run of characters, `_` exactly one character (a code point), `\` makes the next character
 *   literal; a pattern ending in `\` is an error, as in Postgres.
 * - Matching is case-sensitive and whole-string; ILIKE lower-cases both sides first (`foldCase`).
 * - Matching is O(text × pattern) in the worst case (greedy with a single backtrack point per `%`).
 */
import { SqlValueError } from './sqlValue'

type Token = { readonly kind: 'char'; readonly codePoint: number } | { readonly kind: 'one' } | { readonly kind: 'any' }

/** A compiled LIKE pattern. */
export interface LikePattern {
  matches(text: string): boolean
}

/** Compiles a pattern; throws `SqlValueError` for a trailing escape. */
export function compileLikePattern(pattern: string): LikePattern {
  const tokens: Token[] = []
  const codePoints = Array.from(pattern, (char) => char.codePointAt(0) ?? 0)
  for (let index = 0; index < codePoints.length; index++) {
    const codePoint = codePoints[index] ?? 0
    if (codePoint === 0x5c) {
      index++
      const escaped = codePoints[index]
      if (escaped === undefined) throw new SqlValueError('LIKE pattern must not end with escape character')
      tokens.push({ kind: 'char', codePoint: escaped })
    } else if (codePoint === 0x25) {
      if (tokens.at(-1)?.kind !== 'any') tokens.push({ kind: 'any' })
    } else if (codePoint === 0x5f) {
      tokens.push({ kind: 'one' })
    } else {
      tokens.push({ kind: 'char', codePoint })
    }
  }
  return { matches: (text) => matchTokens(tokens, Array.from(text, (char) => char.codePointAt(0) ?? 0)) }
}

function matchTokens(tokens: readonly Token[], text: readonly number[]): boolean {
  let t = 0
  let p = 0
  let starToken = -1
  let starText = 0
  while (t < text.length) {
    const token = tokens[p]
    if (token !== undefined && token.kind !== 'any' && (token.kind === 'one' || token.codePoint === text[t])) {
      t++
      p++
    } else if (token?.kind === 'any') {
      starToken = p++
      starText = t
    } else if (starToken >= 0) {
      p = starToken + 1
      t = ++starText
    } else {
      return false
    }
  }
  while (tokens[p]?.kind === 'any') p++
  return p === tokens.length
}

/**
 * Lower-cases code point by code point, one to one, as Postgres' per-character `lower` does: where Unicode maps
 * a letter to several code points (only `İ` → `i̇`), the base letter is kept.
 */
export function foldCase(text: string): string {
  let result = ''
  for (const char of text) result += String.fromCodePoint(char.toLowerCase().codePointAt(0) ?? 0)
  return result
}

/** Upper-cases code point by code point (`ß` stays `ß`, as Postgres' per-character `upper` does). */
export function upperCase(text: string): string {
  let result = ''
  for (const char of text) {
    const upper = char.toUpperCase()
    result += Array.from(upper).length === 1 ? upper : char
  }
  return result
}
