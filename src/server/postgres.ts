/**
 * `live-shapes/server/postgres`: the PostgreSQL logical-replication source. A separate entry because it needs the
 * optional peers `pg` and `pg-logical-replication`; `live-shapes/server` works without them.
 */
export { createPostgresSource, ReplicationStreamError } from './sources/postgres'
export type { PostgresSource, PostgresSourceOptions, PostgresSourceState } from './sources/postgres'
