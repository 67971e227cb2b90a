/**
 * What the package's own entries need from core and users do not: not part of the public API, not in package.json
 * `exports`, free to change in any release. `src/react` imports core through `./index` and this file only.
 */
export { invalidOption } from './errors'
export { IDLE_STATUS } from './shapeStatus'
export { ReferenceIds, shapeKey } from './shapeKey'
export { validateShapeOptions } from './shapeOptions'
export { sameIterableOrder } from './shallow'
export { SERVER_VIEW } from './shapeView'
export type { ShapeView } from './shapeView'
export { RETARGET, structuralOptions } from './functionForwarders'
