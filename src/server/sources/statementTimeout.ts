/**
 * The snapshot's time limit on the SQL sources (source.ts): `statement_timeout`, local to the snapshot's
 * transaction, so a pooled connection goes back to the pool with its own setting.
 */
import type { SqlQuery } from './describeTable'

/**
 * Sets `statement_timeout` for the rest of the open transaction; does nothing when `timeoutMs` is absent.
 * @example
 * await setStatementTimeout(query, request.timeoutMs)
 */
export async function setStatementTimeout(query: SqlQuery, timeoutMs: number | undefined): Promise<void> {
  if (timeoutMs === undefined) return
  // 0 would mean "no limit" to PostgreSQL: the smallest real limit is 1 ms.
  const milliseconds = Math.max(1, Math.ceil(timeoutMs))
  await query("SELECT set_config('statement_timeout', $1, true)", [`${milliseconds}ms`])
}
