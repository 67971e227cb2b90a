/**
 * The smallest table the in-process server can serve: `items (id int4 primary key, title text)` holding one row.
 * Shared by the tests that only need some table to sync; copy it when a test changes its rows.
 */
export const ITEMS = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int4', primaryKey: true },
    { name: 'title', type: 'text' },
  ],
  rows: [{ id: 1, title: 'one' }],
} as const
