/**
 * Entry of the bench server process: listens on 127.0.0.1 (port 0 unless `--port`), then reports
 * `{ type: 'listening', url }` over IPC when spawned with one, else as a JSON line on stdout.
 */
import { createBenchServer } from './benchServer.mjs'

const portArg = process.argv.indexOf('--port')
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0
const bench = createBenchServer({
  longPollMs: Number(process.env.BENCH_LONG_POLL_MS ?? 20_000),
  sseTimeoutMs: Number(process.env.BENCH_SSE_TIMEOUT_MS ?? 60_000),
})
bench.server.listen(port, '127.0.0.1', () => {
  const address = bench.server.address()
  const message = { type: 'listening', url: `http://127.0.0.1:${address.port}` }
  if (process.send) process.send(message)
  else console.log(JSON.stringify(message))
})
const stop = () => {
  bench.closeLive()
  bench.server.closeAllConnections?.()
  bench.server.close(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)
