/**
 * The demo page: one `ShapeClient` (its `fetch` recorded for the request panel) over the `items` shape served by the
 * same process, with the status badge, the live table, the add/edit form and the controls.
 */
import { useEffect, useMemo, useRef, useState } from 'react'
import type { ReactNode } from 'react'
import { ShapeClient, ShapeClientProvider, useShape } from '../src/index'
import type { Shape, UseShapeResult } from '../src/index'
import type { Item } from './api'
import { Controls } from './Controls'
import type { TransportChoice } from './Controls'
import { ItemForm } from './ItemForm'
import { ItemsTable } from './ItemsTable'
import { createRequestLog } from './requestLog'
import { RequestPanel } from './RequestPanel'
import { StatusBadge } from './StatusBadge'
import { createWriteNotices } from './writeNotices'

const itemsShape = { url: '/v1/shape', params: { table: 'items' } }

// Only the shape itself: the page then re-renders on nothing, the table on membership, each row on its own changes.
const selectShape = (result: UseShapeResult<Item>): Shape<Item> | undefined => result.shape

function LiveItems({ sidebar }: { sidebar: ReactNode }): ReactNode {
  const [editing, setEditing] = useState<Item | undefined>(undefined)
  const [notices] = useState(createWriteNotices)
  const shape = useShape<Item, Shape<Item> | undefined>({ ...itemsShape, selector: selectShape })
  return (
    <>
      <StatusBadge source={shape} />
      <div className="columns">
        <ItemsTable shape={shape} onEdit={setEditing} notices={notices} />
        <aside>
          <ItemForm shape={shape} editing={editing} onDone={() => setEditing(undefined)} notices={notices} />
          {sidebar}
        </aside>
      </div>
    </>
  )
}

/**
 * The whole page.
 * @example
 * createRoot(root).render(<App />)
 */
export function App(): ReactNode {
  const log = useMemo(() => createRequestLog(), [])
  const [transport, setTransport] = useState<TransportChoice>('sse')
  const client = useMemo(() => new ShapeClient({ fetch: log.fetch, liveSse: transport === 'sse' }), [log, transport])
  // A new client per transport; the previous one is disposed once the new one is committed, so its stream does not
  // linger for the grace period. Not in an effect cleanup: StrictMode runs those on mount too.
  const previous = useRef<ShapeClient | undefined>(undefined)
  useEffect(() => {
    if (previous.current !== undefined && previous.current !== client) previous.current.dispose()
    previous.current = client
  }, [client])
  return (
    <main>
      <header>
        <h1>live-shapes demo</h1>
        <p className="muted">
          The <code>items</code> table on an embedded PGlite, served by the dev shape server in this process and followed
          live by <code>useShape</code>.
        </p>
      </header>
      <ShapeClientProvider client={client} key={transport}>
        <LiveItems
          sidebar={
            <>
              <Controls transport={transport} onTransport={setTransport} />
              <RequestPanel log={log} />
            </>
          }
        />
      </ShapeClientProvider>
    </main>
  )
}
