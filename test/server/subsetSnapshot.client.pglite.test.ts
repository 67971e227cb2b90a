import { afterAll, beforeAll } from 'vitest'
import { runClientSubsetSuite } from './support/clientSubset'
import { pgliteFixtures } from './support/sqlFixture'

// One PGlite for the whole file; each test still gets its own table.
const fixtures = pgliteFixtures()
beforeAll(() => fixtures.source(), 120_000)
afterAll(() => fixtures.dispose())

runClientSubsetSuite('subset snapshots from our client on the PGlite source', () => fixtures.makeFixture())
