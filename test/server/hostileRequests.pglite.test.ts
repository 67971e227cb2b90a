import { afterAll } from 'vitest'
import { runHostileRequestSuite, statementRunner } from './support/hostileSuite'
import { pgliteFixtures } from './support/sqlFixture'

// One PGlite for the file (sqlFixture.ts); its user is a superuser, so the catalogs are really readable to it.
const fixtures = pgliteFixtures()
afterAll(() => fixtures.dispose())

runHostileRequestSuite('hostile requests on the PGlite source', async () => ({
  fixture: await fixtures.makeFixture(),
  sql: statementRunner(fixtures.inTransaction),
}))
