/**
 * The error `compileWhere` raises for a where clause (or its params) the dev server refuses; the handler turns it
 * into a 400 `{"message":"Invalid request","errors":{"where"|"params":[…]}}`.
 */

/** Which request field is at fault: the expression itself, or the values bound to its `$n`. */
export type WhereClauseErrorField = 'where' | 'params'

/**
 * A `where` (or its `params`) the server refuses; `messages` become `errors.where` (or `errors.params`).
 *
 * @example
 * try { await compileWhere({ where: 'nme = 1', params: [], table }) }
 * catch (error) { if (error instanceof WhereClauseError) return badRequest({ [error.field]: error.messages }) }
 */
export class WhereClauseError extends Error {
  readonly field: WhereClauseErrorField
  readonly messages: readonly string[]

  constructor(field: WhereClauseErrorField, messages: readonly string[]) {
    super(messages.join('; '))
    this.name = 'WhereClauseError'
    this.field = field
    this.messages = messages
  }
}
