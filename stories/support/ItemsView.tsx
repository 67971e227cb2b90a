/**
 * How the stories show a list of items, whichever hook fetched them.
 */
import type { ReactNode } from 'react'
import type { Item } from './storyFixture'

/**
 * The items as a list, one `item-<id>` entry each.
 * @example
 * <ItemsView items={useShape<Item>(itemsShape(url)).data} />
 */
export function ItemsView({ items }: { items: readonly Item[] }): ReactNode {
  return (
    <ul aria-label="Items" data-testid="items">
      {items.map((item) => (
        <li key={item.id} data-testid={`item-${item.id}`}>
          #{item.id} {item.title} · v{item.version}
        </li>
      ))}
    </ul>
  )
}
