import { afterAll, beforeAll } from 'vitest'
import { runConformanceSuite } from './support/conformance'
import { pgliteFixtures } from './support/sqlFixture'

// One PGlite for the whole file: it takes seconds to start; each test still gets its own tables.
const fixtures = pgliteFixtures()
beforeAll(() => fixtures.source(), 120_000)
afterAll(() => fixtures.dispose())

runConformanceSuite('conformance on the PGlite source', () => fixtures.makeFixture(), { schemaChanges: true })
