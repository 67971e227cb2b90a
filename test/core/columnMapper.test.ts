import { describe, expect, it } from 'vitest'
import { createColumnMapper, encodeWhereColumns, snakeCamelMapper } from '../../src/core/columnMapper'
import { InvalidOptionsError } from '../../src/core/errors'

describe('snakeCamelMapper', () => {
  const mapper = snakeCamelMapper()

  it.each([
    { db: 'user_id', app: 'userId' },
    { db: 'id', app: 'id' },
    { db: 'created_at_utc', app: 'createdAtUtc' },
    { db: '_id', app: '_id' },
    { db: '__typename', app: '__typename' },
    { db: '_private_key', app: '_privateKey' },
    { db: 'name_', app: 'name_' },
    { db: 'address_2', app: 'address_2' },
    { db: 'line2_text', app: 'line2Text' },
    { db: 'a__b', app: 'a_B' },
  ])('decodes $db as $app and encodes it back', ({ db, app }) => {
    expect(mapper.decode(db)).toBe(app)
    expect(mapper.encode(app)).toBe(db)
  })

  it('does not round-trip database names that already contain uppercase letters (documented)', () => {
    expect(mapper.decode('userId')).toBe('userId')
    expect(mapper.encode('userId')).toBe('user_id')
  })
})

describe('createColumnMapper', () => {
  it('maps listed names both ways and passes others through', () => {
    const mapper = createColumnMapper({ user_id: 'owner', created_at: 'createdAt' })
    expect(mapper.decode('user_id')).toBe('owner')
    expect(mapper.encode('owner')).toBe('user_id')
    expect(mapper.decode('created_at')).toBe('createdAt')
    expect(mapper.encode('createdAt')).toBe('created_at')
    expect(mapper.decode('title')).toBe('title')
    expect(mapper.encode('title')).toBe('title')
  })

  it('does not treat Object.prototype names as mappings', () => {
    const mapper = createColumnMapper({})
    expect(mapper.decode('constructor')).toBe('constructor')
    expect(mapper.encode('toString')).toBe('toString')
  })

  it('rejects two database names mapped to the same application name', () => {
    expect(() => createColumnMapper({ a: 'x', b: 'x' })).toThrow(InvalidOptionsError)
  })
})

describe('encodeWhereColumns (a shape where in application names)', () => {
  const encode = snakeCamelMapper().encode
  it.each([
    { where: 'isDone = $1 AND ownerId IS NOT NULL', sent: 'is_done = $1 AND owner_id IS NOT NULL' },
    { where: "fullTitle ILIKE 'camelCase%' OR fullTitle = E'it\\'s userId'", sent: "full_title ILIKE 'camelCase%' OR full_title = E'it\\'s userId'" },
    { where: `"userId" = 1 AND lower(fullTitle) = 'x''Y'`, sent: `"userId" = 1 AND lower(full_title) = 'x''Y'` },
    { where: 'createdAt::date > $2::timestamp WITH TIME ZONE', sent: 'created_at::date > $2::timestamp WITH TIME ZONE' },
    { where: 'priorityLevel IN (1, 2.5e3) AND NOT isDone IS DISTINCT FROM TRUE', sent: 'priority_level IN (1, 2.5e3) AND NOT is_done IS DISTINCT FROM TRUE' },
    { where: 'ownerId = ANY($1) AND tagList @> $$A{B}$$ -- ownerId\n AND dueOn BETWEEN SYMMETRIC $2 AND $3 /* isDone */', sent: 'owner_id = ANY($1) AND tag_list @> $$A{B}$$ -- ownerId\n AND due_on BETWEEN SYMMETRIC $2 AND $3 /* isDone */' },
    { where: "CAST(dueAt AS DATE) = $1 AND createdAt > DATE '2024-01-01' AND lastSeen < TIMESTAMPTZ '2024-01-01 00:00Z'", sent: "CAST(due_at AS DATE) = $1 AND created_at > DATE '2024-01-01' AND last_seen < TIMESTAMPTZ '2024-01-01 00:00Z'" },
    { where: 'CAST(asOf AS TEXT) = aliasName', sent: 'CAST(as_of AS TEXT) = alias_name' },
  ])('sends $where as $sent', ({ where, sent }) => {
    expect(encodeWhereColumns(where, encode)).toBe(sent)
  })

  it('uses an explicit mapping for bare identifiers only', () => {
    const mapper = createColumnMapper({ user_id: 'owner', title: 'name' })
    expect(encodeWhereColumns(`owner = $1 AND name <> 'owner' AND "owner" IS NULL`, mapper.encode)).toBe(
      `user_id = $1 AND title <> 'owner' AND "owner" IS NULL`,
    )
  })
})
