/**
 * `live-shapes/server`: a development shape server speaking Electric's `/v1/shape` protocol. Node only.
 */
export type * from './sources/source'
