import { afterAll, inject } from 'vitest'
import { runHostileRequestSuite, statementRunner } from './support/hostileSuite'
import { postgresFixtures } from './support/sqlFixture'

// One logical-replication source (one slot) for the file (sqlFixture.ts).
const fixtures = postgresFixtures(inject('databaseUrl'))
afterAll(() => fixtures.dispose())

runHostileRequestSuite('hostile requests on the PostgreSQL source', async () => ({
  fixture: await fixtures.makeFixture(),
  sql: statementRunner(fixtures.inTransaction),
}))
