/**
 * Another user's steady stream of writes to the story's in-page source, with a toggle: stories that move by
 * themselves. Mostly updates, sometimes an insert or a delete, keeping between 3 and 8 rows.
 */
import { useEffect, useState } from 'react'
import type { ReactNode } from 'react'
import { useStoryFixture } from './StoryFixture'

/** Props of `AutoWriter`. */
export interface AutoWriterProps {
  /** Writing when the story opens (default `true`). */
  initiallyRunning?: boolean
  /** Milliseconds between writes (default 900). */
  intervalMs?: number
}

/**
 * A start/stop toggle and, while on, one write every `intervalMs`.
 * @example
 * <StoryFixtureProvider><AutoWriter /><LiveItemList /></StoryFixtureProvider>
 */
export function AutoWriter({ initiallyRunning = true, intervalMs = 900 }: AutoWriterProps): ReactNode {
  const fixture = useStoryFixture()
  const [running, setRunning] = useState(initiallyRunning)
  const [writes, setWrites] = useState(0)
  useEffect(() => {
    if (!running) return undefined
    const timer = setInterval(() => {
      const ids = fixture.itemIds()
      const roll = Math.random()
      const pick = (): number | undefined => ids[Math.floor(Math.random() * ids.length)]
      if ((roll < 0.15 && ids.length < 8) || ids.length < 3) fixture.insertItem()
      else if (roll < 0.25 && ids.length > 3) fixture.deleteItem(ids.at(-1) as number)
      else {
        const id = pick()
        if (id !== undefined) fixture.updateItem(id)
      }
      setWrites((count) => count + 1)
    }, intervalMs)
    return () => clearInterval(timer)
  }, [fixture, running, intervalMs])
  return (
    <div className="row">
      <button type="button" className={running ? undefined : 'primary'} aria-pressed={running} onClick={() => setRunning(!running)}>
        {running ? 'Stop the auto-writer' : 'Start the auto-writer'}
      </button>
      <span className="muted" data-testid="auto-writes">
        {running ? `writing every ${intervalMs} ms` : 'auto-writer stopped'} · {writes} writes
      </span>
    </div>
  )
}
