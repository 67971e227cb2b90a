import { afterAll, beforeAll, inject } from 'vitest'
import { runClientSubsetSuite } from './support/clientSubset'
import { postgresFixtures } from './support/sqlFixture'

// One logical-replication source (one slot) for the whole file; each test still gets its own table.
const fixtures = postgresFixtures(inject('databaseUrl'))
beforeAll(() => fixtures.source(), 60_000)
afterAll(() => fixtures.dispose())

runClientSubsetSuite('subset snapshots from our client on the PostgreSQL source', () => fixtures.makeFixture())
