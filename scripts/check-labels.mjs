#!/usr/bin/env node
// Fails when an invariant in src/ is named by a letter-number label (`- T1. ...`, `// A3: ...`, `/** K2: ... */`)
// instead of being stated in words: labels were unique only within a file and drifted. Prints file:line per hit.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// Files not converted yet; the list only shrinks. A listed file that is clean is reported, so it gets removed.
const NOT_YET_CONVERTED = new Set([])

const LABEL = String.raw`[A-Z]{1,3}\d+[a-z]?`
const PATTERNS = [
  new RegExp(String.raw`^\s*(?:\*|//)\s*-\s*${LABEL}\.\s`), // an invariant list item: ` * - T1. ...`
  new RegExp(String.raw`^\s*(?://|/\*\*?|\*)\s*${LABEL}[.:]\s`), // a comment opening with one: `// A3: ...`
]

const root = fileURLToPath(new URL('..', import.meta.url))
const files = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && /\.(?:ts|tsx|mts)$/.test(entry.name))
  .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)).split('\\').join('/'))
  .sort()

const hits = []
const stale = []
for (const file of files) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const found = lines.flatMap((line, i) => (PATTERNS.some((p) => p.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : []))
  if (NOT_YET_CONVERTED.has(file)) {
    if (found.length === 0) stale.push(file)
  } else hits.push(...found)
}

if (stale.length > 0) console.warn(`check-labels: no labels left in ${stale.join(', ')}; remove from NOT_YET_CONVERTED`)
if (hits.length > 0) {
  console.error(`check-labels: state invariants in words, not by letter-number labels:\n${hits.join('\n')}`)
  process.exit(1)
}
