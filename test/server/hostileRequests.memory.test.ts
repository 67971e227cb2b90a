import { runHostileRequestSuite } from './support/hostileSuite'
import { createMemoryFixture } from './support/memoryFixture'

runHostileRequestSuite('hostile requests on the memory source', async () => ({ fixture: await createMemoryFixture() }))
