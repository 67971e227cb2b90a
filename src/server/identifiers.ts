/**
 * Postgres identifiers as Electric reads them in `table` and `columns`.
 *
 * Invariants:
 * - A quoted identifier keeps its case; `""` inside it is one `"`; a lone `"` inside it is refused, and so is a NUL
 *   character, which PostgreSQL cannot store in a name (it would fail in the database instead of as a 400).
 * - An unquoted identifier must match `[A-Za-z_][A-Za-z0-9_]*` and is lower-cased (ASCII only, as Postgres does).
 * - Lists split on commas (and table names on dots) that are outside double quotes.
 */

export type IdentifierResult = { ok: true; value: string } | { ok: false; message: string }

const ZERO_LENGTH = 'Invalid zero-length delimited identifier'

/** Parses one identifier. */
export function parseIdentifier(text: string): IdentifierResult {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    const inner = text.slice(1, -1)
    if (inner === '') return { ok: false, message: ZERO_LENGTH }
    if (inner.replace(/""/g, '').includes('"')) {
      return { ok: false, message: `Invalid identifier with unescaped quote: ${inner}` }
    }
    if (inner.includes('\0')) return { ok: false, message: 'Invalid identifier containing a NUL character' }
    return { ok: true, value: inner.replace(/""/g, '"') }
  }
  if (text === '') return { ok: false, message: ZERO_LENGTH }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
    return { ok: false, message: `Invalid unquoted identifier contains special characters: ${text}` }
  }
  return { ok: true, value: text.replace(/[A-Z]/g, (c) => c.toLowerCase()) }
}

/** Splits `text` on `separator` where it is outside double quotes. */
export function splitOutsideQuotes(text: string, separator: ',' | '.'): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (const char of text) {
    if (char === '"') quoted = !quoted
    if (char === separator && !quoted) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts
}

/** Parses a `columns` param: a comma-separated identifier list. */
export function parseColumnList(text: string): { ok: true; value: string[] } | { ok: false; message: string } {
  const columns: string[] = []
  for (const part of splitOutsideQuotes(text, ',')) {
    const parsed = parseIdentifier(part)
    if (!parsed.ok) return parsed
    columns.push(parsed.value)
  }
  return { ok: true, value: columns }
}

/** Parses a `table` param: `name` or `schema.name`, unqualified names in `public`. */
export function parseTableName(text: string): { ok: true; schema: string; name: string } | { ok: false; message: string } {
  const parts = splitOutsideQuotes(text, '.')
  if (parts.length > 2) return { ok: false, message: `Invalid table name: ${text}` }
  const parsed = parts.map(parseIdentifier)
  for (const part of parsed) if (!part.ok) return part
  const values = parsed.map((part) => (part.ok ? part.value : ''))
  return values.length === 2
    ? { ok: true, schema: values[0] as string, name: values[1] as string }
    : { ok: true, schema: 'public', name: values[0] as string }
}

/** Quotes an identifier for SQL text and Electric's messages: `"x"` with `"` doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
