/**
 * The stories show the demo page's status badge (`demo/StatusBadge.tsx`), so both look and behave the same.
 */
export { StatusBadge } from '../../demo/StatusBadge'
export type { StatusBadgeProps } from '../../demo/StatusBadge'
