/**
 * Scenario (f): one write to one row of a 1,000-row list in React (jsdom, production react-dom), from the user's
 * action to the row on screen and to the write's confirmation.
 * - ours: `shape.mutate({ apply: draft.update(row 1), commit: POST /_bench/commit → { txid } })`: the row shows the
 *   optimistic title in the next React commit (no network), and `mutate` resolves when the live stream brings the
 *   transaction with that txid.
 * - theirs (`@electric-sql/react`, which has no optimistic layer): POST the write, then wait for the row to arrive
 *   through the shape: on screen and confirmed are the same moment.
 *
 * Times are from the call (`mutate` / the POST) to the updated row component's layout effect (it runs in the commit
 * that put the new title in the DOM), and to `mutate` resolving. The bench server answers the POST at once, so
 * confirmation is one POST round trip plus one live response; a real database adds its commit time to both sides.
 * Warm-up writes until 3 were made, then 10 measured writes; medians are reported, with the most React commits of
 * the row and the most responses received (network round trips awaited) before the row showed the write.
 */
import { dropTable, keyOf, prepareTable } from '../probe.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(predicate, what, timeoutMs = 30_000) {
  const start = performance.now()
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

export async function writeLatency({ adapter, url, rows = 1_000, table, warmup = 3, samples: wanted = 10 }) {
  const React = await import('react')
  const { createRoot } = await import('react-dom/client')
  const h = React.createElement
  await prepareTable(url, table, rows)
  // Every response the page receives (the shape's and the write's), to count those awaited before the row showed.
  const arrivals = []
  const countingFetch = async (input, init) => {
    const response = await fetch(input, init)
    arrivals.push(performance.now())
    return response
  }
  const bindings = await adapter.reactBindings({ url, table, fetch: countingFetch })
  const targetKey = keyOf(table, 1)
  const shown = []
  const HookRow = React.memo(({ rowKey }) => {
    const row = bindings.useRow(rowKey)
    React.useLayoutEffect(() => {
      if (row && rowKey === targetKey) shown.push({ at: performance.now(), title: row.title })
    }, [row, rowKey])
    return row ? h('li', null, row.title) : null
  })
  const keys = bindings.keys()
  const App = () => h('ul', null, keys.map((key) => h(HookRow, { key, rowKey: key })))
  const container = document.getElementById('root')
  const root = createRoot(container)
  root.render(h(bindings.Wrapper, null, h(App)))
  await until(() => container.querySelectorAll('li').length === rows, 'the first render')
  await sleep(50)

  const commitUrl = `${url}/_bench/commit?table=${table}&ids=1`
  const results = []
  for (let i = 0; i < warmup + wanted; i++) {
    shown.length = 0
    arrivals.length = 0
    let screenAt
    let screenMs
    let confirmMs
    if (bindings.mutate) {
      const title = `optimistic ${i}`
      const start = performance.now()
      await bindings.mutate({
        apply: (draft) => draft.update({ id: 1n, title }),
        commit: async () => ({ txid: (await (await countingFetch(commitUrl, { method: 'POST' })).json()).lsn }),
      })
      confirmMs = performance.now() - start
      const first = shown.find((entry) => entry.title === title)
      if (!first) throw new Error('the optimistic row never rendered')
      screenAt = first.at
      screenMs = first.at - start
    } else {
      const start = performance.now()
      const info = await (await countingFetch(commitUrl, { method: 'POST' })).json()
      const title = `tx ${info.tx} row 1`
      await until(() => shown.some((entry) => entry.title === title), 'the written row to render')
      screenAt = shown.find((entry) => entry.title === title).at
      screenMs = screenAt - start
      confirmMs = screenMs
    }
    const rowCommits = shown.findIndex((entry) => entry.at === screenAt) + 1
    const responses = arrivals.filter((at) => at <= screenAt).length
    if (i >= warmup) results.push({ screenMs, confirmMs, rowCommits, responses })
    await sleep(20)
  }
  root.unmount()
  bindings.close()
  await dropTable(url, table)
  const median = (pick) => {
    const values = results.map(pick).sort((a, b) => a - b)
    return values[values.length >> 1]
  }
  return {
    screenMs: median((r) => r.screenMs),
    confirmMs: median((r) => r.confirmMs),
    /** React commits of the row up to and including the one that showed the write. */
    rowCommitsToScreen: Math.max(...results.map((r) => r.rowCommits)),
    /** Responses (shape or write) the page received before the row showed the write. */
    responsesBeforeScreen: Math.max(...results.map((r) => r.responses)),
    samples: results.map((r) => [Number(r.screenMs.toFixed(2)), Number(r.confirmMs.toFixed(2))]),
  }
}
