/**
 * What the demo lets you do to the world around the client: start/stop the server's writer, take the shape endpoint
 * down for a few seconds (or end that outage early, then press the badge's Retry), invalidate the shape (the client gets a 409 and resyncs), and switch the live transport.
 */
import { useEffect, useState } from 'react'
import type { ReactNode } from 'react'
import { demoApi } from './api'
import type { DemoState } from './api'

/** The live transport the page's client uses. */
export type TransportChoice = 'long-poll' | 'sse'

const OUTAGE_SECONDS = 15

// With its end time: the note stays on screen after the outage ended by itself, and must not read as still current.
const outageNotice = (next: DemoState | undefined): string => {
  const until = next?.outage.until
  const end = until == null ? '' : ` (until ${new Date(until).toLocaleTimeString()})`
  return `The shape endpoint answers 503 for ${OUTAGE_SECONDS} s${end}.`
}

/**
 * The control panel.
 * @example
 * <Controls transport={transport} onTransport={setTransport} />
 */
export function Controls({ transport, onTransport }: { transport: TransportChoice; onTransport: (next: TransportChoice) => void }): ReactNode {
  const [state, setState] = useState<DemoState | undefined>(undefined)
  const [message, setMessage] = useState<string | undefined>(undefined)
  useEffect(() => {
    demoApi.state().then(setState, (error: Error) => setMessage(error.message))
  }, [])

  const run = (action: () => Promise<DemoState | undefined>, done?: string | ((next: DemoState | undefined) => string)): void => {
    setMessage(undefined)
    action().then(
      (next) => {
        if (next) setState(next)
        if (done) setMessage(typeof done === 'string' ? done : done(next))
      },
      (error: Error) => setMessage(error.message),
    )
  }
  const running = state?.writer.running ?? false

  return (
    <section className="panel" aria-label="Controls">
      <h2>Controls</h2>
      <div className="row">
        <button type="button" className={running ? undefined : 'primary'} onClick={() => run(() => demoApi.setWriter(!running))} disabled={!state}>
          {running ? 'Stop the writer' : 'Start the writer'}
        </button>
        <span className="muted" data-testid="writer-state">
          {state === undefined ? '…' : running ? `writing every ${state.writer.intervalMs} ms` : 'writer stopped'}
        </span>
      </div>
      <div className="row">
        <button type="button" onClick={() => run(() => demoApi.outage(OUTAGE_SECONDS), outageNotice)}>
          Simulate an outage ({OUTAGE_SECONDS} s)
        </button>
        <button type="button" onClick={() => run(() => demoApi.endOutage(), 'The shape endpoint answers again: press Retry now, or wait for the countdown.')}>
          End the outage
        </button>
        <button
          type="button"
          onClick={() => run(async () => {
              await demoApi.invalidate()
              return undefined
            }, 'Shape deleted on the server: the client gets a 409 and resyncs.')}
        >
          Invalidate the shape (409)
        </button>
      </div>
      <fieldset className="row">
        <legend>Live transport</legend>
        {(['long-poll', 'sse'] as const).map((choice) => (
          <label key={choice} className="inline">
            <input type="radio" name="transport" checked={transport === choice} onChange={() => onTransport(choice)} />
            {choice === 'sse' ? 'Server-Sent Events' : 'long-polling'}
          </label>
        ))}
      </fieldset>
      {message !== undefined && <p className="note">{message}</p>}
    </section>
  )
}
