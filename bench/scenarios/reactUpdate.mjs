/**
 * Scenario (c): React in jsdom, 10k rows, one single-row update, for five page shapes:
 * - `plain`: the list component reads all rows (`useShape().data`) and renders a row component per row;
 * - `memo`: the same with `React.memo` row components;
 * - `selector`: one component whose selector picks the updated row out of the 10k-row shape;
 * - `rowHooks`: 10k memoized row components, each subscribed to its own row with the side's per-row hook (theirs:
 *   `useShape` with a selector; ours: `useShapeRow`); the list itself does not subscribe;
 * - `rowList` (ours only: theirs has no such component, its counterpart is its `memo` list): the same memoized
 *   `useShapeRow` row components inside `<ul><ShapeRowList shape renderRow /></ul>`, `renderRow` stable
 *   (`useCallback`), so React visits one group of about √n rows instead of all n siblings.
 *
 * `groupSize` (rowList only, default: the component's own) and `cpuProfile` (a file: CPU profile of the measured
 * updates only, mount and warm-up excluded; the DOM check is then skipped so it does not pollute the profile) are
 * for by-hand experiments (`bench/rowListGroupSize.mjs`, `bench/rowListProfile.mjs`).
 * `heapProfile` (a file) records a sampling heap profile of the measured updates instead (by hand: what each side
 * allocates per update).
 * `reactBuild`: `'profiling'` (default, `react-dom/profiling`) times the last commit with a Profiler's `onRender`
 * and reports the render time (`renderMs`) as the sum of its `actualDuration`;
 * `'production'` (`react-dom/client`, where `onRender` never fires) times it with a layout effect of the updated
 * row component, which runs in the same commit after its DOM mutation, and reports as `renderMs` the time from the
 * list component's first render after the response to that commit (what the hook reads inside render counts). The profiling build does extra work per
 * commit (it walks the children of every fiber it completes to sum durations), so the two are reported apart.
 *
 * Latency is publish → commit: from the moment the live response carrying the update reaches the client's `fetch`
 * to the last React commit it causes (Profiler `onRender`, which runs in the commit phase). Network and server time
 * are excluded; parsing, applying, notifying, rendering and committing are included. Each process measures
 * updates of the same row with one rule for both sides: warm-up updates (cold code: both sides take a few updates
 * to get fast) until 5 were made or 3 s passed, then measured updates until 10 were made or 20 s passed (at least
 * 2); it reports their median, and the very first update as `firstMs`.
 *
 * The harness waits on cheap signals only (the store, the row component's own render, Profiler commits): reading
 * the DOM of 10k rows while waiting would block the thread and inflate the latency it measures. The DOM is checked
 * once, after the measured window.
 */
import { keyOf, prepareTable, dropTable } from '../probe.mjs'

/** Installs jsdom globals; must run before react-dom is imported. */
export async function installDom() {
  const { JSDOM } = await import('jsdom')
  const dom = new JSDOM('<!doctype html><html><body><div id="root"></div></body></html>', { pretendToBeVisual: true, url: 'http://localhost/' })
  const { window } = dom
  for (const name of ['window', 'document', 'navigator', 'HTMLElement', 'Element', 'Node', 'Text', 'MutationObserver', 'Event']) {
    if (!(name in globalThis) || name === 'window' || name === 'document') {
      Object.defineProperty(globalThis, name, { value: name === 'window' ? window : window[name], configurable: true, writable: true })
    }
  }
  globalThis.IS_REACT_ACT_ENVIRONMENT = false
  return window
}

const cpuNow = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(predicate, what, timeoutMs = 60_000) {
  const start = performance.now()
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

export async function reactUpdate({ adapter, url, rows, table, variant, reactBuild = 'profiling', groupSize, cpuProfile, heapProfile, maxWarmup = 5, warmupBudgetMs = 3_000, maxSamples = 10, sampleBudgetMs = 20_000 }) {
  const React = await import('react')
  const production = reactBuild === 'production'
  const { createRoot } = await import(production ? 'react-dom/client' : 'react-dom/profiling')
  const h = React.createElement
  await prepareTable(url, table, rows)
  const liveResponses = []
  const probed = async (input, init) => {
    const response = await fetch(input, init)
    if (String(input).includes('live=true')) liveResponses.push({ at: performance.now(), cpu: cpuNow() })
    return response
  }
  const bindings = await adapter.reactBindings({ url, table, fetch: probed })
  const counter = { rows: 0 }
  const targetKey = keyOf(table, 1)

  const seen = { title: undefined }
  const commits = []
  const RowView = ({ row }) => {
    counter.rows++
    if (row.id === 1n) seen.title = row.title
    if (production) {
      // Hook order is fixed per process (`production` never changes), so the conditional call is safe.
      React.useLayoutEffect(() => {
        if (row.id === 1n) commits.push({ at: performance.now(), cpu: cpuNow(), phase: 'layout', actualDuration: 0 })
      }, [row])
    }
    return h('li', null, `${row.title} · ${row.priority} · ${row.done ? 'done' : 'open'}`)
  }
  const MemoRow = React.memo(RowView)
  const listRenders = []
  const PlainList = () => {
    listRenders.push({ at: performance.now(), cpu: cpuNow() })
    return h('ul', null, bindings.useRows().map((row) => h(RowView, { key: String(row.id), row })))
  }
  const MemoList = () => {
    listRenders.push({ at: performance.now(), cpu: cpuNow() })
    return h('ul', null, bindings.useRows().map((row) => h(MemoRow, { key: String(row.id), row })))
  }
  const SelectedRow = () => {
    const row = bindings.useSelectedRow(targetKey)
    return h('ul', null, row ? h(RowView, { row }) : null)
  }
  const HookRow = React.memo(({ rowKey }) => {
    const row = bindings.useRow(rowKey)
    return row ? h(RowView, { row }) : null
  })
  const keys = bindings.keys()
  const HookList = () => h('ul', null, keys.map((key) => h(HookRow, { key, rowKey: key })))
  const RowList = () => {
    const renderRow = React.useCallback((key) => h(HookRow, { rowKey: key }), [])
    return h('ul', null, h(bindings.RowList, { renderRow, groupSize }))
  }
  // By-hand only (`rowTree`): the static keys in memoized Fragment groups nested `branching` wide, to measure what
  // nesting would buy `ShapeRowList` (every bailed-out group React completes loops over its children).
  const branching = groupSize ?? 16
  const Branch = React.memo(({ node }) => node.leaves
    ? node.leaves.map((key) => h(React.Fragment, { key }, h(HookRow, { rowKey: key })))
    : node.children.map((child, index) => h(Branch, { key: index, node: child })))
  const buildTree = (list) => {
    if (list.length <= branching) return { leaves: list }
    const size = branching ** Math.ceil(Math.log(list.length) / Math.log(branching) - 1)
    const children = []
    for (let start = 0; start < list.length; start += size) children.push(buildTree(list.slice(start, start + size)))
    return { children }
  }
  const tree = variant === 'rowTree' ? buildTree(keys) : undefined
  const RowTree = () => h('ul', null, h(Branch, { node: tree }))
  if (variant === 'rowList' && !bindings.RowList) throw new Error(`${adapter.name} has no row-list component`)
  const App = { plain: PlainList, memo: MemoList, selector: SelectedRow, rowHooks: HookList, rowList: RowList, rowTree: RowTree }[variant]
  if (!App) throw new Error(`unknown variant ${variant}`)
  const expectedItems = variant === 'selector' ? 1 : rows

  const onRender = (id, phase, actualDuration) => production || commits.push({ at: performance.now(), cpu: cpuNow(), phase, actualDuration })
  // DOM text writes per update (a cheap check that an update rewrites only what changed, on both sides).
  const textWrites = { count: 0 }
  const nodeValue = Object.getOwnPropertyDescriptor(window.Node.prototype, 'nodeValue')
  if (nodeValue?.set) {
    Object.defineProperty(window.Node.prototype, 'nodeValue', {
      ...nodeValue,
      set(value) {
        textWrites.count++
        nodeValue.set.call(this, value)
      },
    })
  }
  const container = document.getElementById('root')
  const root = createRoot(container)
  const mountStart = performance.now()
  root.render(h(React.Profiler, { id: 'bench', onRender }, h(bindings.Wrapper, null, h(App))))
  await until(() => container.querySelectorAll('li').length === expectedItems, 'the first render')
  const mountMs = performance.now() - mountStart
  await sleep(50)

  const samples = []
  let firstMs
  let warmups = 0
  const warmupStart = performance.now()
  let sampleStart
  let profiler
  for (;;) {
    const warming = warmups < maxWarmup && (warmups === 0 || performance.now() - warmupStart < warmupBudgetMs)
    if (!warming) {
      if ((cpuProfile || heapProfile) && sampleStart === undefined) {
        const { Session } = await import('node:inspector/promises')
        profiler = new Session()
        profiler.connect()
        if (heapProfile) {
          await profiler.post('HeapProfiler.enable')
          await profiler.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
        } else {
          await profiler.post('Profiler.enable')
          await profiler.post('Profiler.setSamplingInterval', { interval: 100 })
          await profiler.post('Profiler.start')
        }
      }
      sampleStart ??= performance.now()
      if (samples.length >= maxSamples || (samples.length >= 2 && performance.now() - sampleStart > sampleBudgetMs)) break
    }
    counter.rows = 0
    commits.length = 0
    listRenders.length = 0
    textWrites.count = 0
    const sentAt = performance.now()
    const info = await (await fetch(`${url}/_bench/commit?table=${table}&ids=1`, { method: 'POST' })).json()
    const title = `tx ${info.tx} row 1`
    await until(() => bindings.getRow(targetKey)?.priority === info.marker, 'the update in the store', 10_000)
    await until(() => seen.title === title && commits.length > 0, 'the updated row to render and commit', 60_000)
    await sleep(30)
    if (!profiler && !container.textContent.includes(title)) throw new Error('the DOM does not show the update')
    const response = liveResponses.find(({ at }) => at >= sentAt)
    const arrived = response?.at
    const last = commits.at(-1)
    if (arrived === undefined || last === undefined) throw new Error('no live response or no commit observed')
    const latencyMs = last.at - arrived
    firstMs ??= latencyMs
    if (warming) {
      warmups++
      continue
    }
    samples.push({
      latencyMs,
      rowRenders: counter.rows,
      textWrites: textWrites.count,
      commits: commits.length,
      // Profiling build: the Profiler's render time. Production build (no `actualDuration`): from the list component's
      // first render after the response to the commit, i.e. the render phase (hooks and rows) plus the commit.
      renderMs: production
        ? last.at - (listRenders.find(({ at }) => at >= arrived)?.at ?? last.at)
        : commits.reduce((sum, c) => sum + c.actualDuration, 0),
      // The same two spans in CPU time of this process (`process.cpuUsage`, all threads): what a loaded machine's
      // waits for a core do not inflate.
      cpuMs: last.cpu - response.cpu,
      renderCpuMs: last.cpu - (listRenders.find(({ at }) => at >= arrived)?.cpu ?? last.cpu),
    })
  }
  if (profiler && heapProfile) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(heapProfile, JSON.stringify({ profile, samples: samples.length }))
    profiler.disconnect()
  } else if (profiler) {
    const { profile } = await profiler.post('Profiler.stop')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(cpuProfile, JSON.stringify(profile))
    profiler.disconnect()
  }
  root.unmount()
  bindings.close()
  await dropTable(url, table)
  const median = (pick) => {
    const values = samples.map(pick).sort((a, b) => a - b)
    return values[values.length >> 1]
  }
  return {
    latencyMs: median((s) => s.latencyMs),
    rowRenders: Math.max(...samples.map((s) => s.rowRenders)),
    textWrites: Math.max(...samples.map((s) => s.textWrites)),
    commits: median((s) => s.commits),
    renderMs: median((s) => s.renderMs),
    cpuMs: median((s) => s.cpuMs),
    renderCpuMs: median((s) => s.renderCpuMs),
    mountMs,
    firstMs,
    warmups,
    samples: samples.map((s) => Number(s.latencyMs.toFixed(2))),
  }
}
