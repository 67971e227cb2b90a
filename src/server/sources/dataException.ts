/**
 * A snapshot that failed on the data rather than on the database: PostgreSQL's SQLSTATE class 22 (division by
 * zero, numeric overflow, an invalid cast…), raised by a `where` or `order_by` evaluated on some row.
 *
 * Invariants:
 * - `isDataException` recognizes PostgreSQL's and PGlite's errors of class 22 by their `code`, and the
 *   {@link DataException} the memory source throws where PostgreSQL would have raised one, so the server answers
 *   all three sources alike: repeating the same request fails the same way, so it is the client's error, not a
 *   transient one.
 */

/** The memory source's stand-in for a PostgreSQL data exception; `code` is a class 22 SQLSTATE. */
export class DataException extends Error {
  readonly code: string
  constructor(message: string, code = '22000') {
    super(message)
    this.name = 'DataException'
    this.code = code
  }
}

/**
 * True for an error whose SQLSTATE is in class 22.
 * @example
 * if (isDataException(error)) return badRequest(request, { where: [error.message] })
 */
export function isDataException(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error)) return false
  const code: unknown = (error as { code?: unknown }).code
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)
}
