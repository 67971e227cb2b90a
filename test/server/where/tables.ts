/** Table descriptions shared by the where-clause tests. */
import type { ColumnDescription, TableDescription } from '../../../src/server/sources/source'

export function column(name: string, type: string, options: Partial<ColumnDescription> = {}): ColumnDescription {
  return { name, type, dims: 0, notNull: false, pkIndex: undefined, typeMod: -1, ...options }
}

/** One column of every type the evaluator supports, plus an array and a jsonb column it can only null-test. */
export const allTypes: TableDescription = {
  schema: 'public',
  name: 'things',
  primaryKey: ['id'],
  columns: [
    column('id', 'int4', { notNull: true, pkIndex: 0 }),
    column('i2', 'int2'),
    column('i4', 'int4'),
    column('i8', 'int8'),
    column('f4', 'float4'),
    column('f8', 'float8'),
    column('n', 'numeric'),
    column('t', 'text'),
    column('vc', 'varchar'),
    column('c', 'bpchar'),
    column('u', 'uuid'),
    column('b', 'bool'),
    column('d', 'date'),
    column('ts', 'timestamp'),
    column('tz', 'timestamptz'),
    column('j', 'jsonb'),
    column('tags', 'text', { dims: 1 }),
    column('m', 'mood'),
    column('Mixed Case', 'text'),
  ],
}
