import { runHostileFuzz } from './support/hostileFuzz'
import { createMemoryFixture } from './support/memoryFixture'

// Seed 11 (case #1476) found the out-of-range timestamp the memory source answered with a 503 (hostileCorpus.ts names it).
// The same generator runs on PGlite and PostgreSQL with `runHostileFuzz`; it is kept on memory here for speed.
runHostileFuzz('generated hostile requests on the memory source', async () => ({ fixture: await createMemoryFixture() }), {
  seeds: [11],
  cases: 1_500,
})
