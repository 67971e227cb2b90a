/** Order statistics of repeated measurements. */

/** `{ median, min, max, n }` of finite numbers; `undefined` when there are none. */
export function summarize(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length }
}

/** Formats a number with 3 significant digits (or fixed for large ones). */
export function fmt(value, digits = 3) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–'
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US')
  return Number(value.toPrecision(digits)).toString()
}
