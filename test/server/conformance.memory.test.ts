import { createMemoryFixture } from './support/memoryFixture'
import { runConformanceSuite } from './support/conformance'

runConformanceSuite('conformance on the memory source', createMemoryFixture)
