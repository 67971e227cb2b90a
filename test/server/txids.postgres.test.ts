import { afterAll, beforeAll, inject } from 'vitest'
import { postgresFixtures } from './support/sqlFixture'
import { runTxidSuite } from './support/txidSuite'

// One logical-replication source (one slot) for the whole file.
const fixtures = postgresFixtures(inject('databaseUrl'))
beforeAll(() => fixtures.source(), 60_000)
afterAll(() => fixtures.dispose())

runTxidSuite('txids on the PostgreSQL source', fixtures)
