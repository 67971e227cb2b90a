/**
 * The `SourceFixture` the conformance suite runs on (contract in SERVER-CONTRACTS.md): a source plus SQL-ish
 * writes, so the same suite proves the memory, PGlite and PostgreSQL sources.
 */
import type { ChangeSource } from '../../../src/server/sources/source'

export type FixtureValue = string | number | boolean | null

export interface SourceFixture {
  source: ChangeSource
  /** Creates a fresh table with a unique name; columns as SQL type names; returns its name. */
  createTable(def: {
    name: string
    columns: { name: string; type: string; primaryKey?: boolean; notNull?: boolean }[]
    replicaFull?: boolean
  }): Promise<string>
  insert(table: string, row: Record<string, FixtureValue>): Promise<void>
  update(table: string, key: Record<string, unknown>, changes: Record<string, unknown>): Promise<void>
  delete(table: string, key: Record<string, unknown>): Promise<void>
  /** `TRUNCATE` of the table. */
  truncate(table: string): Promise<void>
  /** `ALTER TABLE <table> <clause>`, on sources with DDL (the SQL ones; the memory source has none). */
  alterTable?: (table: string, clause: string) => Promise<void>
  /** Several statements in one transaction. */
  transaction(fn: (tx: FixtureWrites) => Promise<void>): Promise<void>
  close(): Promise<void>
}

/** The writes a fixture (or one of its transactions) can make. */
export type FixtureWrites = Omit<SourceFixture, 'source' | 'createTable' | 'alterTable' | 'transaction' | 'close'>
