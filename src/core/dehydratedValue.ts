/**
 * The JSON encoding of row values in a dehydrated state: plain JSON where JSON carries the value exactly, a tagged
 * object where it does not.
 *
 * Encoding (the tag key is `"$ls"`):
 * - strings, booleans, `null`, finite numbers other than `-0`, arrays and plain objects: themselves;
 * - bigint (`int8` columns): `{"$ls":"bigint","v":"9007199254740993"}`;
 * - `NaN`, `Infinity`, `-Infinity`, `-0` (`float4`/`float8` columns): `{"$ls":"number","v":"NaN"}`;
 * - `undefined` (a transformer's output, an array hole): `{"$ls":"undefined"}`;
 * - `Date` (custom parsers): `{"$ls":"date","v":"2024-01-01T00:00:00.000Z"}` (`v` is `null` for an invalid date);
 * - a plain object that has its own `"$ls"` key (a `jsonb` document could): `{"$ls":"object","v":{…}}`, so no user
 *   data is ever read as a tag.
 *
 * Invariants:
 * - `decode(JSON.parse(JSON.stringify(encode(x))))` equals `x` for every value the encoding lists, `-0`, `NaN`
 *   and bigints included; anything else (functions, symbols, class instances, cycles) is refused with a
 *   `DehydratedStateError` naming its path, unless `serializeValue` turned it into something listed.
 * - `serializeValue` sees every value top-down before it is encoded; `deserializeValue` sees every value
 *   bottom-up after it is decoded: together they carry types the encoding does not know (decimals, bytes…).
 * - Decoded objects are built with own data properties only, so a `"__proto__"` key stays a key.
 */
import { DehydratedStateError } from './dehydratedStateError'

/**
 * A value JSON carries as is.
 * @example
 * const value: JsonValue = { tags: ['a', 'b'], count: 2 }
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

const TAG = '$ls'
const SPECIAL_NUMBERS: readonly string[] = ['NaN', 'Infinity', '-Infinity', '-0']
const INTEGER = /^-?\d+$/

/**
 * Encodes one value for a dehydrated state.
 * @example
 * encodeDehydratedValue({ id: 1n }, 'row') // { id: { $ls: 'bigint', v: '1' } }
 */
export function encodeDehydratedValue(
  value: unknown,
  path: string,
  serializeValue?: ((value: unknown) => unknown) | undefined,
): JsonValue {
  return encode(value, path, serializeValue, new Set())
}

/**
 * Decodes one value of a dehydrated state; throws `DehydratedStateError` on anything the encoding cannot produce.
 * @example
 * decodeDehydratedValue({ id: { $ls: 'bigint', v: '1' } }, 'row') // { id: 1n }
 */
export function decodeDehydratedValue(
  value: unknown,
  path: string,
  deserializeValue?: ((value: unknown) => unknown) | undefined,
): unknown {
  return decode(value, path, deserializeValue)
}

function tagged(tag: string, v?: JsonValue): JsonValue {
  return v === undefined ? { [TAG]: tag } : { [TAG]: tag, v }
}

type Convert = ((value: unknown) => unknown) | undefined

function encode(input: unknown, path: string, serialize: Convert, seen: Set<object>): JsonValue {
  const value = serialize ? serialize(input) : input
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return tagged('number', Object.is(value, -0) ? '-0' : String(value))
    case 'bigint':
      return tagged('bigint', value.toString())
    case 'undefined':
      return tagged('undefined')
    case 'object': {
      if (value === null) return null
      if (value instanceof Date) return tagged('date', Number.isNaN(value.getTime()) ? null : value.toISOString())
      if (seen.has(value)) throw new DehydratedStateError(path, 'a value refers to itself (a cycle)')
      seen.add(value)
      try {
        if (Array.isArray(value)) {
          const items: JsonValue[] = []
          for (let index = 0; index < value.length; index++) {
            items.push(encode(value[index], `${path}[${index}]`, serialize, seen))
          }
          return items
        }
        const prototype: unknown = Object.getPrototypeOf(value)
        if (prototype !== Object.prototype && prototype !== null) {
          throw new DehydratedStateError(path, `cannot encode a ${describe(value)}; convert it with serializeValue`)
        }
        const record = value as Record<string, unknown>
        const encoded = Object.fromEntries(
          Object.keys(record).map((key) => [key, encode(record[key], `${path}.${key}`, serialize, seen)]),
        ) as { [key: string]: JsonValue }
        return Object.hasOwn(record, TAG) ? tagged('object', encoded) : encoded
      } finally {
        seen.delete(value)
      }
    }
    default:
      throw new DehydratedStateError(path, `cannot encode a ${typeof value}; convert it with serializeValue`)
  }
}

function decode(input: unknown, path: string, deserialize: Convert): unknown {
  const value = decodeNode(input, path, deserialize)
  return deserialize ? deserialize(value) : value
}

function decodeNode(input: unknown, path: string, deserialize: Convert): unknown {
  if (input === null || typeof input === 'string' || typeof input === 'boolean') return input
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DehydratedStateError(path, 'a number JSON cannot hold')
    return input
  }
  if (Array.isArray(input)) return input.map((item: unknown, index) => decode(item, `${path}[${index}]`, deserialize))
  if (typeof input !== 'object') throw new DehydratedStateError(path, `a ${typeof input} is not JSON`)
  const record = input as Record<string, unknown>
  if (Object.hasOwn(record, TAG)) return decodeTagged(record, path, deserialize)
  return decodeRecord(record, path, deserialize)
}

function decodeRecord(record: Record<string, unknown>, path: string, deserialize: Convert): unknown {
  return Object.fromEntries(Object.keys(record).map((key) => [key, decode(record[key], `${path}.${key}`, deserialize)]))
}

function decodeTagged(record: Record<string, unknown>, path: string, deserialize: Convert): unknown {
  const tag = record[TAG]
  const v = record['v']
  const extra = Object.keys(record).filter((key) => key !== TAG && key !== 'v')
  if (extra.length > 0) throw new DehydratedStateError(path, `a tagged value with unexpected keys ${extra.join(', ')}`)
  switch (tag) {
    case 'bigint':
      if (typeof v !== 'string' || !INTEGER.test(v)) {
        throw new DehydratedStateError(path, 'a bigint needs a decimal string "v"')
      }
      return BigInt(v)
    case 'number':
      if (typeof v !== 'string' || !SPECIAL_NUMBERS.includes(v)) {
        throw new DehydratedStateError(path, `a tagged number must be one of ${SPECIAL_NUMBERS.join(', ')}`)
      }
      return Number(v)
    case 'undefined':
      if ('v' in record) throw new DehydratedStateError(path, 'a tagged undefined carries no "v"')
      return undefined
    case 'date': {
      if (v === null) return new Date(Number.NaN)
      const date = typeof v === 'string' ? new Date(v) : undefined
      if (date === undefined || Number.isNaN(date.getTime())) {
        throw new DehydratedStateError(path, 'a date needs an ISO string "v"')
      }
      return date
    }
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new DehydratedStateError(path, 'an escaped object needs an object "v"')
      }
      return decodeRecord(v as Record<string, unknown>, path, deserialize)
    default:
      throw new DehydratedStateError(path, `unknown value tag ${JSON.stringify(tag)}`)
  }
}

function describe(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'non-plain object'
}
