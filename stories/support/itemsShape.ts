/**
 * The shape options the stories share: every row of `items`, optionally narrowed by a `where`.
 */
import type { ShapeHookOptions } from '../../src/index'
import { ITEMS_TABLE } from './storyFixture'
import type { Item } from './storyFixture'

/**
 * Options for the `items` shape served at `url`.
 * @example
 * useShape<Item>(itemsShape(fixture.url))
 */
export function itemsShape(
  url: string,
  extra: { where?: string | undefined; liveSse?: boolean | undefined } = {},
): ShapeHookOptions<Item> {
  return {
    url,
    params: { table: ITEMS_TABLE, ...(extra.where === undefined ? {} : { where: extra.where }) },
    ...(extra.liveSse === undefined ? {} : { liveSse: extra.liveSse }),
  }
}
