/**
 * Decodes pgoutput (protocol version 1) messages, keeping column values as the text PostgreSQL sent.
 *
 * pg-logical-replication's own parser runs every value through `pg`'s global type parsers (dates become `Date`,
 * json becomes objects, booleans become booleans), which would break the text-output rule of source.ts; this decoder
 * does not.
 *
 * Invariants:
 * - Values are the walsender's text output, byte for byte, or null; nothing is parsed.
 * - An unchanged TOAST value (`u`) in a new tuple takes the old tuple's value when the old tuple was sent
 *   (REPLICA IDENTITY FULL); otherwise the column is left out, never guessed.
 * - LSNs are unsigned 64-bit bigints and xids unsigned 32-bit decimals.
 */

/** A column of a relation message. */
export interface DecodedColumn {
  name: string
  typeOid: number
  typeMod: number
  /** Part of the replica identity key. */
  isKey: boolean
}

/** The schema of a table as pgoutput announces it before its first change. */
export interface DecodedRelation {
  oid: number
  schema: string
  name: string
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index'
  columns: readonly DecodedColumn[]
}

/** A tuple as sent: text values, null, or absent (unchanged TOAST; it takes the old tuple's value when that was sent). */
export type DecodedTuple = Record<string, string | null>

/** One decoded pgoutput message; messages this source does not use are `other`. */
export type DecodedMessage =
  | { tag: 'begin'; finalLsn: bigint; xid: string }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint }
  | { tag: 'relation'; relation: DecodedRelation }
  | { tag: 'insert'; relation: DecodedRelation; newTuple: DecodedTuple }
  | {
      tag: 'update'
      relation: DecodedRelation
      /** Full old row (`O`, replica identity full) or only its key (`K`, key changed), if sent. */
      oldTuple: DecodedTuple | undefined
      oldKind: 'full' | 'key' | 'none'
      newTuple: DecodedTuple
    }
  | { tag: 'delete'; relation: DecodedRelation; oldTuple: DecodedTuple; oldKind: 'full' | 'key' }
  | { tag: 'truncate'; relations: readonly DecodedRelation[] }
  | { tag: 'other'; code: string }

const utf8 = new TextDecoder()

class Reader {
  #offset = 0
  readonly #buffer: Buffer
  constructor(buffer: Buffer) {
    this.#buffer = buffer
  }
  byte(): number {
    return this.#buffer.readUInt8(this.#offset++)
  }
  int16(): number {
    const value = this.#buffer.readInt16BE(this.#offset)
    this.#offset += 2
    return value
  }
  int32(): number {
    const value = this.#buffer.readInt32BE(this.#offset)
    this.#offset += 4
    return value
  }
  uint32(): number {
    const value = this.#buffer.readUInt32BE(this.#offset)
    this.#offset += 4
    return value
  }
  uint64(): bigint {
    const value = this.#buffer.readBigUInt64BE(this.#offset)
    this.#offset += 8
    return value
  }
  string(): string {
    const end = this.#buffer.indexOf(0, this.#offset)
    if (end === -1) throw new Error('pgoutput: unterminated string')
    const value = utf8.decode(this.#buffer.subarray(this.#offset, end))
    this.#offset = end + 1
    return value
  }
  bytes(length: number): Buffer {
    const value = this.#buffer.subarray(this.#offset, this.#offset + length)
    this.#offset += length
    return value
  }
}

const IDENTITY: Record<string, DecodedRelation['replicaIdentity']> = { d: 'default', n: 'nothing', f: 'full', i: 'index' }

/**
 * A stateful decoder: relation messages are remembered (per decoder) so later changes can name their columns.
 *
 * @example
 * const decoder = new PgoutputDecoder()
 * const message = decoder.decode(xlogDataPayload)
 */
export class PgoutputDecoder {
  readonly #relations = new Map<number, DecodedRelation>()

  decode(buffer: Buffer): DecodedMessage {
    const reader = new Reader(buffer)
    const code = String.fromCharCode(reader.byte())
    switch (code) {
      case 'B': {
        const finalLsn = reader.uint64()
        reader.uint64()
        return { tag: 'begin', finalLsn, xid: String(reader.uint32()) }
      }
      case 'C': {
        reader.byte()
        const commitLsn = reader.uint64()
        return { tag: 'commit', commitLsn, endLsn: reader.uint64() }
      }
      case 'R':
        return { tag: 'relation', relation: this.#relation(reader) }
      case 'I': {
        const relation = this.#known(reader.int32())
        reader.byte()
        return { tag: 'insert', relation, newTuple: tuple(reader, relation, undefined) }
      }
      case 'U': {
        const relation = this.#known(reader.int32())
        let kind = String.fromCharCode(reader.byte())
        let oldTuple: DecodedTuple | undefined
        let oldKind: 'full' | 'key' | 'none' = 'none'
        if (kind === 'K' || kind === 'O') {
          oldTuple = tuple(reader, relation, undefined)
          oldKind = kind === 'O' ? 'full' : 'key'
          if (kind === 'K') oldTuple = keyOnly(oldTuple, relation)
          kind = String.fromCharCode(reader.byte())
        }
        if (kind !== 'N') throw new Error(`pgoutput: unexpected update submessage ${kind}`)
        const newTuple = tuple(reader, relation, oldKind === 'full' ? oldTuple : undefined)
        return { tag: 'update', relation, oldTuple, oldKind, newTuple }
      }
      case 'D': {
        const relation = this.#known(reader.int32())
        const kind = String.fromCharCode(reader.byte())
        const oldTuple = tuple(reader, relation, undefined)
        return kind === 'O'
          ? { tag: 'delete', relation, oldTuple, oldKind: 'full' }
          : { tag: 'delete', relation, oldTuple: keyOnly(oldTuple, relation), oldKind: 'key' }
      }
      case 'T': {
        const count = reader.int32()
        reader.byte()
        const relations: DecodedRelation[] = []
        for (let index = 0; index < count; index++) relations.push(this.#known(reader.int32()))
        return { tag: 'truncate', relations }
      }
      default:
        return { tag: 'other', code }
    }
  }

  #relation(reader: Reader): DecodedRelation {
    const oid = reader.uint32()
    const namespace = reader.string()
    const name = reader.string()
    const identity = IDENTITY[String.fromCharCode(reader.byte())] ?? 'default'
    const count = reader.int16()
    const columns: DecodedColumn[] = []
    for (let index = 0; index < count; index++) {
      const flags = reader.byte()
      const columnName = reader.string()
      const typeOid = reader.uint32()
      columns.push({ name: columnName, typeOid, typeMod: reader.int32(), isKey: (flags & 1) === 1 })
    }
    // pgoutput sends an empty namespace for pg_catalog.
    const relation = { oid, schema: namespace === '' ? 'pg_catalog' : namespace, name, replicaIdentity: identity, columns }
    this.#relations.set(oid, relation)
    return relation
  }

  #known(oid: number): DecodedRelation {
    const relation = this.#relations.get(oid >>> 0)
    if (relation === undefined) throw new Error(`pgoutput: change for unannounced relation ${oid >>> 0}`)
    return relation
  }
}

function tuple(reader: Reader, relation: DecodedRelation, old: DecodedTuple | undefined): DecodedTuple {
  const count = reader.int16()
  const values: DecodedTuple = {}
  for (let index = 0; index < count; index++) {
    const column = relation.columns[index]
    const kind = String.fromCharCode(reader.byte())
    let value: string | null | undefined
    if (kind === 'n') value = null
    else if (kind === 'u') value = old?.[column?.name ?? '']
    else if (kind === 't' || kind === 'b') value = utf8.decode(reader.bytes(reader.int32()))
    else throw new Error(`pgoutput: unknown tuple value kind ${kind}`)
    if (column !== undefined && value !== undefined) values[column.name] = value
  }
  return values
}

function keyOnly(values: DecodedTuple, relation: DecodedRelation): DecodedTuple {
  const key: DecodedTuple = {}
  for (const column of relation.columns) {
    const value = values[column.name]
    if (column.isKey && value !== undefined) key[column.name] = value
  }
  return key
}
