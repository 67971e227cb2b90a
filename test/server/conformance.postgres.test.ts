import { afterAll, beforeAll, inject } from 'vitest'
import { runConformanceSuite } from './support/conformance'
import { postgresFixtures } from './support/sqlFixture'

// One logical-replication source (one slot) for the whole file; each test still gets its own tables.
const fixtures = postgresFixtures(inject('databaseUrl'))
beforeAll(() => fixtures.source(), 60_000)
afterAll(() => fixtures.dispose())

runConformanceSuite('conformance on the PostgreSQL source', () => fixtures.makeFixture(), { schemaChanges: true })
