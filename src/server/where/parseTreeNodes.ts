/**
 * Reading libpg-query parse-tree nodes the way `analyzeWhere` needs them: names, built-in names, required
 * operands and parenthesized lists. A node of the wrong shape is refused with a `where` error, never passed on.
 */
import type { Node } from 'libpg-query'
import { IN_SHAPE_WHERE, whereError } from './analyzedValue'

/** The strings of a name list (`schema.name`), or undefined when an element is not a plain string. */
export function stringsOf(nodes: readonly Node[] | undefined): string[] | undefined {
  const names: string[] = []
  for (const node of nodes ?? []) {
    if (!('String' in node)) return undefined
    names.push(node.String.sval ?? '')
  }
  return names
}

/** The name of a built-in (unqualified or `pg_catalog.`-qualified), or undefined for anything else. */
export function builtinName(nodes: readonly Node[] | undefined): string | undefined {
  const names = stringsOf(nodes)
  if (names?.length === 1) return names[0]
  if (names?.length === 2 && names[0] === 'pg_catalog') return names[1]
  return undefined
}

/** An operand the grammar requires; its absence is an incomplete expression. */
export function required(node: Node | undefined): Node {
  if (!node) throw whereError('Invalid where clause: incomplete expression')
  return node
}

/** The items of the parenthesized list of IN or BETWEEN. */
export function listItems(node: Node): readonly Node[] {
  if ('List' in node) return node.List.items ?? []
  throw whereError(`IN and BETWEEN need a parenthesized list ${IN_SHAPE_WHERE}`)
}
