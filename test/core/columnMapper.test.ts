import { describe, expect, it } from 'vitest'
import { createColumnMapper, snakeCamelMapper } from '../../src/core/columnMapper'
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
