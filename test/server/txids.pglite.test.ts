import { afterAll, beforeAll } from 'vitest'
import { pgliteFixtures } from './support/sqlFixture'
import { runTxidSuite } from './support/txidSuite'

const fixtures = pgliteFixtures()
beforeAll(() => fixtures.source(), 60_000)
afterAll(() => fixtures.dispose())

runTxidSuite('txids on the PGlite source', fixtures)
