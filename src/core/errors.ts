/**
 * Typed errors of a shape's stream and options. Every failure a stream reports (status, `onError`, `whenUpToDate`)
 * and every refused option is one of these, with a stable `code` to switch on; the errors of writes and row keys are
 * classes of their own (`TxidTimeoutError` in txid.ts, `RowKeyError` in rowKey.ts).
 *
 * Invariants:
 * - `retryable` says whether the stream retries by itself with backoff (network, 429, 5xx, malformed bodies);
 *   anything else stops the stream and goes to `onError` / subscribers.
 * - An error never carries parsed rows: raising one leaves the store exactly as it was.
 */

/**
 * The stable `code` of every `ShapeError`, to switch on without `instanceof`.
 * @example
 * if (error.code === 'bad-request') showFormErrors(error) // 'http', 'network', 'parse'…
 */
export type ShapeErrorCode =
  | 'http'
  | 'bad-request'
  | 'missing-headers'
  | 'malformed-response'
  | 'malformed-schema'
  | 'null-value'
  | 'parse'
  | 'invalid-options'
  | 'reserved-param'
  | 'network'
  | 'retries-exhausted'
  | 'must-refetch'
  | 'stale-response'

/**
 * The base of every error live-shapes raises: a stable `code` and whether the stream retries by itself.
 * @example
 * const status = useShapeStatus(shape)
 * if (status.error instanceof ShapeError && !status.error.retryable) return <p>{status.error.message}</p>
 */
export abstract class ShapeError extends Error {
  abstract readonly code: ShapeErrorCode
  /** True when the stream retries on its own. */
  abstract readonly retryable: boolean
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * A non-2xx HTTP response. `json` is the parsed body when it was JSON.
 * @example
 * if (error instanceof FetchError && error.status === 401) return { headers: { authorization: await refreshToken() } }
 */
export class FetchError extends ShapeError {
  readonly code: ShapeErrorCode = 'http'
  readonly status: number
  readonly url: string
  readonly body: string
  readonly json: unknown
  readonly headers: Readonly<Record<string, string>>
  constructor(init: { status: number; url: string; body: string; headers: Headers | Record<string, string>; message?: string }) {
    super(init.message ?? `HTTP ${init.status} from ${init.url}${init.body ? `: ${init.body.slice(0, 500)}` : ''}`)
    this.status = init.status
    this.url = init.url
    this.body = init.body
    this.json = tryJson(init.body)
    this.headers = init.headers instanceof Headers ? Object.fromEntries(init.headers.entries()) : { ...init.headers }
  }
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500
  }
}

/**
 * A 400 from the server, with its validation messages per field (`{"message": …, "errors": {field: [msg]}}`).
 * @example
 * if (error instanceof ShapeRequestError) console.error(error.errors['where']) // e.g. ['unknown column "titel"']
 */
export class ShapeRequestError extends FetchError {
  override readonly code: ShapeErrorCode = 'bad-request'
  /** Field name to messages, exactly as the server sent them (may nest, e.g. `subset.order_by`). */
  readonly errors: Readonly<Record<string, unknown>>
  constructor(init: { url: string; body: string; headers: Headers | Record<string, string> }) {
    const json = tryJson(init.body) as { message?: unknown; error?: unknown; errors?: unknown } | undefined
    const errors = json && typeof json.errors === 'object' && json.errors !== null ? (json.errors as Record<string, unknown>) : {}
    const summary = Object.entries(errors)
      .map(([field, messages]) => `${field}: ${Array.isArray(messages) ? messages.join('; ') : JSON.stringify(messages)}`)
      .join(', ')
    const head = typeof json?.message === 'string' ? json.message : typeof json?.error === 'string' ? json.error : 'Bad request'
    super({ ...init, status: 400, message: summary ? `${head}: ${summary}` : head })
    this.errors = errors
  }
}

/**
 * A 2xx response without a header the protocol requires. Never retried: the server or a proxy is misconfigured.
 * @example
 * if (error instanceof MissingHeadersError) console.error('proxy drops', error.missing) // ['electric-handle', …]
 */
export class MissingHeadersError extends ShapeError {
  readonly code: ShapeErrorCode = 'missing-headers'
  readonly retryable = false
  readonly url: string
  readonly missing: readonly string[]
  constructor(url: string, missing: readonly string[]) {
    super(
      `The response for ${url} is missing required headers: ${missing.join(', ')}. ` +
        'If a proxy sits in front of the shape server, it must pass these headers through (and expose them for CORS).',
    )
    this.url = url
    this.missing = missing
  }
}

/**
 * A body that is not valid JSON or not a protocol message array. Retried: the store is untouched.
 * @example
 * if (error instanceof MalformedResponseError) console.warn('retrying after a bad body from', error.url)
 */
export class MalformedResponseError extends ShapeError {
  readonly code: ShapeErrorCode = 'malformed-response'
  readonly retryable = true
  readonly url: string
  constructor(url: string, detail: string, options?: { cause?: unknown }) {
    super(`Malformed response from ${url}: ${detail}`, options)
    this.url = url
  }
}

/**
 * An `electric-schema` header that is not a JSON object of column descriptions.
 * @example
 * if (error instanceof MalformedSchemaError) console.warn('bad electric-schema header', error.header)
 */
export class MalformedSchemaError extends ShapeError {
  readonly code: ShapeErrorCode = 'malformed-schema'
  readonly retryable = true
  readonly header: string
  constructor(header: string, options?: { cause?: unknown }) {
    super(`Malformed electric-schema header: ${header.slice(0, 200)}`, options)
    this.header = header
  }
}

/**
 * A `null` in a column the schema declares `not_null`.
 * @example
 * if (error instanceof NullValueError) console.error(`${error.column} was null`)
 */
export class NullValueError extends ShapeError {
  readonly code: ShapeErrorCode = 'null-value'
  readonly retryable = false
  readonly column: string
  constructor(column: string) {
    super(`Column "${column}" is declared NOT NULL but the server sent null`)
    this.column = column
  }
}

/**
 * A value the parser for its type could not read (e.g. invalid JSON in a jsonb column, a bad array literal).
 * @example
 * if (error instanceof ValueParseError) console.error(`${error.column} (${error.pgType}) could not be parsed`)
 */
export class ValueParseError extends ShapeError {
  readonly code: ShapeErrorCode = 'parse'
  readonly retryable = false
  readonly column: string
  readonly pgType: string
  constructor(column: string, pgType: string, options?: { cause?: unknown }) {
    super(`Could not parse column "${column}" of type ${pgType}`, options)
    this.column = column
    this.pgType = pgType
  }
}

/**
 * Options that cannot describe a shape (missing url or table, bad replica, a function where a value belongs…).
 * @example
 * client.shape({ url, params: { table: '' } }) // throws InvalidOptionsError
 */
export class InvalidOptionsError extends ShapeError {
  readonly code: ShapeErrorCode = 'invalid-options'
  readonly retryable = false
}

/**
 * The `InvalidOptionsError` of an option of the wrong kind: `${what} must be ${expected}, got ${value}`. Internal
 * (not in the public index): one message form for every option checked at run time.
 * @example
 * throw invalidOption('ShapeClient option "fetch"', 'a function', 5) // ShapeClient option "fetch" must be a function, got 5
 */
export function invalidOption(what: string, expected: string, value: unknown): InvalidOptionsError {
  return new InvalidOptionsError(`${what} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`)
}

/**
 * A user param named like a protocol param (`offset`, `handle`, `live`, `cursor`, `cache-buster`).
 * @example
 * client.shape({ url, params: { table: 'todos', offset: '0_0' } }) // throws ReservedParamError (params: ['offset'])
 */
export class ReservedParamError extends ShapeError {
  readonly code: ShapeErrorCode = 'reserved-param'
  readonly retryable = false
  readonly params: readonly string[]
  constructor(params: readonly string[]) {
    super(`These params are reserved by the shape protocol and cannot be set: ${params.join(', ')}`)
    this.params = params
  }
}

/**
 * `fetch` itself rejected (DNS, refused connection, reset).
 * @example
 * if (status.error instanceof NetworkError) return <OfflineBanner retryAt={status.nextRetryAt} />
 */
export class NetworkError extends ShapeError {
  readonly code: ShapeErrorCode = 'network'
  readonly retryable = true
  readonly url: string
  constructor(url: string, cause: unknown) {
    super(`Network error requesting ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.url = url
  }
}

/**
 * A 409 must-refetch right after another one (no up-to-date in between): a server or cache answering 409 to
 * everything. The refetch is retried with the normal backoff (honouring `retry-after`) instead of at once.
 * @example
 * if (status.error instanceof RepeatedMustRefetchError) console.warn(`${status.error.consecutive} 409s in a row`)
 */
export class RepeatedMustRefetchError extends FetchError {
  override readonly code: ShapeErrorCode = 'must-refetch'
  /** How many 409s arrived in a row, this one included. */
  readonly consecutive: number
  constructor(init: { url: string; headers: Headers | Record<string, string>; consecutive: number }) {
    super({
      status: 409,
      url: init.url,
      body: '',
      headers: init.headers,
      message: `${init.consecutive} must-refetch (409) responses in a row from ${init.url}; refetching with backoff`,
    })
    this.consecutive = init.consecutive
  }
  override get retryable(): boolean {
    return true
  }
}

/**
 * A response of the shape handle a 409 just expired (a cache or proxy replaying an old response). It is never
 * applied: the shape is refetched with a fresh cache buster.
 * @example
 * if (status.error instanceof StaleResponseError) console.warn('a cache served', status.error.handle)
 */
export class StaleResponseError extends ShapeError {
  readonly code: ShapeErrorCode = 'stale-response'
  readonly retryable = true
  readonly url: string
  /** The expired handle the response carried. */
  readonly handle: string
  constructor(url: string, handle: string) {
    super(
      `The response for ${url} belongs to the expired shape handle ${handle} (a stale cached response); ` +
        'it was ignored and the shape is refetched with a cache buster',
    )
    this.url = url
    this.handle = handle
  }
}

/**
 * A retryable failure that lasted past `maxRetries`; `cause` is the last one.
 * @example
 * if (error instanceof RetriesExhaustedError) console.error(`gave up after ${error.attempts} attempts`, error.cause)
 */
export class RetriesExhaustedError extends ShapeError {
  readonly code: ShapeErrorCode = 'retries-exhausted'
  readonly retryable = false
  readonly attempts: number
  /** The last failure (set by `Error` from the constructor's `{ cause }`; declared here only to type it). */
  declare readonly cause: ShapeError
  constructor(attempts: number, cause: ShapeError) {
    super(`Gave up after ${attempts} attempts: ${cause.message}`, { cause })
    this.attempts = attempts
  }
}

function tryJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
