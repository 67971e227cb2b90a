/**
 * Hostile and malformed requests the shape handler must answer with a 4xx in Electric's body, never a 5xx and never
 * internal text, on every source: the same corpus runs on memory, PGlite and PostgreSQL.
 */

/** The tables a corpus entry can name. */
export interface CorpusTables {
  /** An allowed, ordinary table in `public` with columns `id int8` (pk), `title text`, `n int4` and rows 1, 2. */
  items: string
  /** A view, a sequence and a materialized view over it in `public` (SQL sources only; a missing name elsewhere). */
  view: string
  sequence: string
  matview: string
}

export interface CorpusEntry {
  label: string
  /** The query string parameters (repeated names as an array of pairs). */
  query: (tables: CorpusTables) => Record<string, string> | [string, string][]
  method?: string
  /** Default `/v1/shape`. */
  path?: string
  body?: string | Uint8Array
  headers?: Record<string, string>
  /** An exact status when one is owed; otherwise any 4xx. */
  status?: number
  /** A table refusal: 400 with `errors.table`. */
  tableRefusal?: true
}

const NUL = '\u0000'
const deep = (depth: number): string => `${'('.repeat(depth)}id = 1${')'.repeat(depth)}`

/** Tables no request may read, whether or not they exist: catalogs, other schemas, and non-tables. */
export const REFUSED_TABLES: readonly ((tables: CorpusTables) => string)[] = [
  () => 'pg_catalog.pg_authid',
  () => 'pg_authid',
  () => 'PG_CATALOG.PG_AUTHID',
  () => '"pg_catalog"."pg_authid"',
  () => 'pg_catalog.pg_statistic',
  () => 'pg_statistic',
  () => 'pg_catalog.pg_class',
  () => 'pg_catalog.pg_shadow',
  () => 'pg_catalog.pg_user_mapping',
  () => 'information_schema.tables',
  () => 'pg_toast.pg_toast_1260',
  () => 'private.secrets',
  () => '"private"."secrets"',
  () => 'PRIVATE.SECRETS',
  () => 'live_shapes.changes',
  (t) => t.view,
  (t) => t.sequence,
  (t) => t.matview,
  () => 'no_such_table',
]

const shape = (t: CorpusTables, extra: Record<string, string> = {}): Record<string, string> => ({ table: t.items, offset: '-1', ...extra })

/** Every request of the corpus. */
export const CORPUS: readonly CorpusEntry[] = [
  ...REFUSED_TABLES.map(
    (table): CorpusEntry => ({ label: `table refused: ${table({ items: 'items', view: 'view', sequence: 'seq', matview: 'mv' })}`, query: (t) => ({ table: table(t), offset: '-1' }), status: 400, tableRefusal: true }),
  ),
  // table names
  { label: 'table with a NUL in a quoted name', query: () => ({ table: `"items${NUL}"`, offset: '-1' }), status: 400 },
  { label: 'schema with a NUL in a quoted name', query: (t) => ({ table: `"pub${NUL}lic".${t.items}`, offset: '-1' }), status: 400 },
  { label: 'table with a statement after it', query: (t) => ({ table: `${t.items}; DROP TABLE ${t.items}`, offset: '-1' }), status: 400 },
  { label: 'table with a comment', query: (t) => ({ table: `${t.items}--`, offset: '-1' }), status: 400 },
  { label: 'table with a doubled quote escape', query: (t) => ({ table: `"${t.items}"" OR 1=1 --"`, offset: '-1' }), status: 400 },
  { label: 'table with an unbalanced quote', query: (t) => ({ table: `"${t.items}`, offset: '-1' }), status: 400 },
  { label: 'table with three parts', query: (t) => ({ table: `db.public.${t.items}`, offset: '-1' }), status: 400 },
  { label: 'empty quoted table', query: () => ({ table: '""', offset: '-1' }), status: 400 },
  { label: 'a lone dot', query: () => ({ table: '.', offset: '-1' }), status: 400 },
  { label: 'a 10 000-character table name', query: () => ({ table: 'x'.repeat(10_000), offset: '-1' }), status: 400 },
  { label: 'a table name with a newline', query: (t) => ({ table: `"${t.items}\nDROP"`, offset: '-1' }), status: 400 },
  { label: 'a non-ASCII unquoted table name', query: () => ({ table: 'ítems', offset: '-1' }), status: 400 },
  { label: 'a percent-encoded NUL', query: () => ({ table: '%00', offset: '-1' }), status: 400 },
  // columns
  { label: 'columns with a NUL', query: (t) => shape(t, { columns: `id,"ti${NUL}tle"` }), status: 400 },
  { label: 'columns with a statement', query: (t) => shape(t, { columns: 'id; DROP TABLE x' }), status: 400 },
  { label: 'columns with a qualified name', query: (t) => shape(t, { columns: 'id,pg_catalog.pg_authid' }), status: 400 },
  { label: 'columns with a quoted injection', query: (t) => shape(t, { columns: 'id,"title"" FROM pg_authid --"' }), status: 400 },
  { label: 'columns that are only commas', query: (t) => shape(t, { columns: ',,' }), status: 400 },
  { label: 'columns star', query: (t) => shape(t, { columns: '*' }), status: 400 },
  { label: 'columns without the key', query: (t) => shape(t, { columns: 'title' }), status: 400 },
  { label: 'columns of a system column', query: (t) => shape(t, { columns: 'id,xmin' }), status: 400 },
  // where
  { label: 'where with a second statement', query: (t) => shape(t, { where: `1=1; DROP TABLE ${t.items}` }), status: 400 },
  { label: 'where with UNION', query: (t) => shape(t, { where: 'id = 1 UNION SELECT rolpassword FROM pg_authid' }), status: 400 },
  { label: 'where with a subquery on a catalog', query: (t) => shape(t, { where: 'id IN (SELECT oid FROM pg_authid)' }), status: 400 },
  { label: 'where calling pg_read_file', query: (t) => shape(t, { where: "pg_read_file('/etc/passwd') = ''" }), status: 400 },
  { label: 'where calling pg_sleep', query: (t) => shape(t, { where: 'pg_sleep(10) IS NULL' }), status: 400 },
  { label: 'where reading a setting', query: (t) => shape(t, { where: "current_setting('data_directory') = ''" }), status: 400 },
  { label: 'where naming a column of another table', query: (t) => shape(t, { where: 'pg_authid.rolpassword IS NOT NULL' }), status: 400 },
  { label: 'where with a NUL', query: (t) => shape(t, { where: `title = 'a${NUL}b'` }) },
  { label: 'where with an unterminated string', query: (t) => shape(t, { where: "title = 'abc" }), status: 400 },
  { label: 'where nested 20 000 deep', query: (t) => shape(t, { where: deep(20_000) }), status: 400 },
  { label: 'where with a dangling $1', query: (t) => shape(t, { where: 'title = $1' }), status: 400 },
  { label: 'where with $0', query: (t) => shape(t, { where: 'title = $0', 'params[1]': 'a' }), status: 400 },
  { label: 'where that fails on a row (division by zero)', query: (t) => shape(t, { where: 'n / (n - n) = 1' }), status: 400 },
  { label: 'where that fails on a row (bad cast)', query: (t) => shape(t, { where: 'title::int4 > 0' }), status: 400 },
  // Found by a seeded fuzz of where clauses (seed 11, case 1476): the memory source printed the year as 9.2e+22, could
  // not read its own SQL back and answered 503; PostgreSQL refuses both as out of range.
  { label: 'where with a timestamp year past any integer', query: (t) => shape(t, { where: "id > 0 AND '92233720368547758082030-01-01'::timestamptz > '2024-01-01'::timestamptz" }), status: 400 },
  { label: "where with a timestamp past PostgreSQL's range", query: (t) => shape(t, { where: "id > 0 AND '294277-01-01'::timestamptz > '2024-01-01'::timestamptz" }), status: 400 },
  { label: "where with a date past a timestamp's range cast to one", query: (t) => shape(t, { where: "id > 0 AND '5874897-12-31'::date::timestamp > '2024-01-01'::timestamp" }), status: 400 },
  { label: "where with a date past PostgreSQL's range", query: (t) => shape(t, { where: "id > 0 AND '5874898-01-01'::date > '2024-01-01'::date" }), status: 400 },
  // Folding constants grew bigints without bound: this 1 200-character clause held the event loop for 40 s.
  { label: 'where with a numeric constant chain past numeric range', query: (t) => shape(t, { where: `id > 0 AND 1 ${' / 3e-10000'.repeat(100)} > 0` }), status: 400 },
  { label: 'where with a numeric constant past 131 072 digits', query: (t) => shape(t, { where: `id > 0 AND ${Array(14).fill('1e10000').join(' * ')} > 0` }), status: 400 },
  // Folding built a 15.6 MB constant from a 65 KB request (and kept it per shape): 6 s and 500 MB on the memory source.
  { label: 'where folding a param into a huge constant', query: (t) => shape(t, { where: `title = lower(${Array(240).fill('$1').join(' || ')})`, 'params[1]': 'y'.repeat(65_000) }), status: 400 },
  { label: 'where that overflows on a row', query: (t) => shape(t, { where: 'n * 2147483647 * 2147483647 > 0' }), status: 400 },
  // params
  { label: 'a NUL in a param', query: (t) => shape(t, { where: 'title = $1', 'params[1]': `a${NUL}b` }) },
  { label: 'a param that is not the column type', query: (t) => shape(t, { where: 'n = $1', 'params[1]': 'not a number' }), status: 400 },
  { label: 'params[0]', query: (t) => shape(t, { where: 'title = $1', 'params[0]': 'a' }), status: 400 },
  { label: 'params[a]', query: (t) => shape(t, { where: 'title = $1', 'params[a]': 'a' }), status: 400 },
  { label: 'a huge param index', query: (t) => shape(t, { where: 'title = $1', 'params[99999999999999999999]': 'a' }), status: 400 },
  { label: 'params without brackets', query: (t) => shape(t, { where: 'title = $1', params: 'a' }), status: 400 },
  { label: 'params with a gap', query: (t) => shape(t, { where: 'title = $1', 'params[1]': 'a', 'params[3]': 'c' }), status: 400 },
  // other shape params
  { label: 'offset with an injection', query: (t) => ({ table: t.items, offset: "-1'; DROP TABLE x --" }), status: 400 },
  { label: 'an offset past any integer', query: (t) => ({ table: t.items, offset: `${'9'.repeat(40)}_0`, handle: 'h' }) },
  { label: 'an unknown handle', query: (t) => ({ table: t.items, offset: '0_0', handle: '../../etc/passwd' }), status: 409 },
  { label: 'replica out of its enum', query: (t) => shape(t, { replica: 'everything' }), status: 400 },
  { label: 'log out of its enum', query: (t) => shape(t, { log: 'all' }), status: 400 },
  { label: 'experimental_live_sse not a boolean', query: (t) => shape(t, { experimental_live_sse: 'maybe' }), status: 400 },
  { label: 'live with -1', query: (t) => shape(t, { live: 'true' }), status: 400 },
  // Refused as a repeat whichever copy comes first (requestParams.ts), before any table is looked at.
  { label: 'a repeated table param', query: (t) => [['table', 'pg_catalog.pg_authid'], ['table', t.items], ['offset', '-1']], status: 400 },
  { label: 'a repeated table param, the allowed one first', query: (t) => [['table', t.items], ['table', 'pg_catalog.pg_authid'], ['offset', '-1']], status: 400 },
  // subsets
  { label: 'subset where with a statement', query: (t) => shape(t, { subset__where: '1=1; DROP TABLE x' }), status: 400 },
  { label: 'subset where on a catalog', query: (t) => shape(t, { subset__where: 'id IN (SELECT oid FROM pg_authid)' }), status: 400 },
  { label: 'subset order_by with a subquery', query: (t) => shape(t, { subset__order_by: '(SELECT 1)', subset__limit: '1' }), status: 400 },
  // libpg-query parses synchronously: a huge order_by must be refused before it holds the event loop.
  { label: 'subset order_by past the length limit', query: (t) => shape(t, { subset__order_by: Array(6_000).fill('id').join(','), subset__limit: '1' }), status: 400 },
  { label: 'subset order_by past the term limit', query: (t) => shape(t, { subset__order_by: Array(1_001).fill('id').join(','), subset__limit: '1' }), status: 400 },
  { label: 'subset order_by with a statement', query: (t) => shape(t, { subset__order_by: 'id; DROP TABLE x', subset__limit: '1' }), status: 400 },
  { label: 'subset limit negative', query: (t) => shape(t, { subset__order_by: 'id', subset__limit: '-1' }), status: 400 },
  { label: 'subset limit 1e400', query: (t) => shape(t, { subset__order_by: 'id', subset__limit: '1e400' }), status: 400 },
  { label: 'subset limit past a safe integer', query: (t) => shape(t, { subset__order_by: 'id', subset__limit: '99999999999999999999' }), status: 400 },
  { label: 'subset params not JSON', query: (t) => shape(t, { subset__where: 'title = $1', subset__params: '{' }), status: 400 },
  { label: 'subset params with a NUL', query: (t) => shape(t, { subset__where: 'title = $1', subset__params: JSON.stringify({ 1: `a${NUL}` }) }) },
  { label: 'subset where failing on a row', query: (t) => shape(t, { subset__where: 'n / (n - n) = 1' }), status: 400 },
  { label: 'subset on a refused table', query: () => ({ table: 'pg_catalog.pg_authid', offset: '-1', subset__where: 'true' }), status: 400, tableRefusal: true },
  // POST bodies
  { label: 'POST invalid JSON', method: 'POST', query: shape, body: '{"where":', status: 400 },
  { label: 'POST an array', method: 'POST', query: shape, body: '[1]', status: 400 },
  { label: 'POST a string', method: 'POST', query: shape, body: '"id > 1"', status: 400 },
  { label: 'POST invalid UTF-8', method: 'POST', query: shape, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), status: 400 },
  { label: 'POST a NUL', method: 'POST', query: shape, body: `{"where":"title = '${'\\u0000'}'"}` },
  { label: 'POST where not a string', method: 'POST', query: shape, body: '{"where":{"$gt":1}}', status: 400 },
  { label: 'POST params an object of objects', method: 'POST', query: shape, body: '{"where":"title = $1","params":{"1":{"a":1}}}', status: 400 },
  { label: 'POST __proto__ params', method: 'POST', query: shape, body: '{"where":"title = $1","params":{"__proto__":{"1":"a"}}}', status: 400 },
  { label: 'POST nested 100 000 deep', method: 'POST', query: shape, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, status: 400 },
  { label: 'POST over the body cap', method: 'POST', query: shape, body: `{"where":"${'x'.repeat(1024 * 1024)}"}`, status: 413 },
  { label: 'POST declaring a length over the cap', method: 'POST', query: shape, body: '{}', headers: { 'content-length': String(1024 * 1024 * 1024) }, status: 413 },
  { label: 'POST to a refused table', method: 'POST', query: () => ({ table: 'pg_catalog.pg_authid', offset: '-1' }), body: '{}', status: 400, tableRefusal: true },
  { label: 'POST subset where on a catalog', method: 'POST', query: shape, body: '{"where":"id IN (SELECT oid FROM pg_authid)"}', status: 400 },
  // methods
  { label: 'PUT', method: 'PUT', query: shape, body: '{}', status: 405 },
  { label: 'PATCH', method: 'PATCH', query: shape, body: '{}', status: 405 },
  { label: 'an unknown method', method: 'BREW', query: shape, status: 405 },
  { label: 'DELETE when not allowed', method: 'DELETE', query: (t) => ({ table: t.items }), status: 405 },
  { label: 'health with POST', method: 'POST', path: '/v1/health', query: () => ({}), body: '{}', status: 405 },
  { label: 'an unknown path', path: '/v1/shapes/../../etc/passwd', query: () => ({}), status: 404 },
  { label: 'an unknown path under the mount', path: '/api/v2/shape', query: shape, status: 404 },
]

/** Text that must never reach a client: error class names, stacks, file paths, the server's own SQL. */
export const INTERNAL_TEXT =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|TableChangedError|DataException)\b|Error: |\n\s+at |node_modules|\/work\/|\.ts:\d|\.js:\d|pg_current_snapshot|set_config|live_shapes_capture|relkind|nspname|REPLICA IDENTITY|PUBLICATION|Internal server error:|SCRAM-SHA-256|hunter2/
