/**
 * The requests the page's `ShapeClient` makes, as its injected `fetch` wrapper recorded them (see `requestLog.ts`).
 */
import { useSyncExternalStore } from 'react'
import type { ReactNode } from 'react'
import type { RequestEntry, RequestLog } from './requestLog'

function outcome(entry: RequestEntry): string {
  if (entry.outcome === 'pending') return entry.kind === 'long-poll' ? 'held…' : '…'
  if (entry.outcome === 'aborted') return 'aborted'
  if (entry.outcome === 'network') return 'no answer'
  return entry.kind === 'sse' && entry.outcome === 200 ? '200, streaming' : String(entry.outcome)
}

/**
 * The request panel over `log`.
 * @example
 * <RequestPanel log={log} />
 */
export function RequestPanel({ log }: { log: RequestLog }): ReactNode {
  const entries = useSyncExternalStore(log.subscribe, log.getSnapshot)
  return (
    <section className="panel requests" aria-label="Requests">
      <h2>
        Requests <button type="button" className="small" onClick={log.clear}>Clear</button>
      </h2>
      <table>
        <thead>
          <tr>
            <th className="num">#</th>
            <th>kind</th>
            <th>offset</th>
            <th>status</th>
            <th className="num">ms</th>
          </tr>
        </thead>
        <tbody data-testid="requests">
          {entries.map((entry) => (
            <tr key={entry.id} className={`kind-${entry.kind}`}>
              <td className="num">{entry.id}</td>
              <td>{entry.kind}</td>
              <td>
                <code>{entry.offset}</code>
              </td>
              <td>{outcome(entry)}</td>
              <td className="num">{entry.durationMs ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
