/**
 * Which browser origins may read `/v1/shape` responses, applied once to every response as it leaves the handler.
 *
 * Invariants:
 * - An origin the policy allows gets `access-control-allow-origin` (its own value, or `*` when the policy is `'*'`)
 *   plus the allowed methods and exposed headers; any other origin gets no `access-control-*` header at all, so the
 *   browser withholds the response from the page.
 * - The default policy (no `cors` option) allows every origin but `null` (sandboxed iframes, `file:` pages, some
 *   redirects), which is allowed only when configured: listed in `origins`, accepted by an `origins` function, or
 *   `origins: '*'`. A request without an `Origin` header gets `*`.
 * - A `cors` option of any other shape (`null`, a number, a list holding a non-string) is an `InvalidOptionsError`
 *   when the handler is created, so no request ever meets a policy it cannot apply. So is a list entry that no
 *   browser ever sends as `Origin` (`'*'`, a trailing slash or path, upper case, a default port): it would match
 *   nothing and refuse every page without a word. Entries are serialized origins (`scheme://host[:port]`) or `null`.
 * - A response whose CORS headers depend on the request's origin says so with `vary: origin`, so a shared cache never
 *   serves one origin's answer to another.
 */
import { InvalidOptionsError } from '../core/errors'

/** Allowed origins: `'*'` (any, `null` included), a list of exact origins, or a predicate over the `Origin` value. */
export type CorsOrigins = '*' | readonly string[] | ((origin: string) => boolean)

/** The handler's `cors` option. */
export interface CorsOptions {
  /** Default: any origin except `null`. */
  origins?: CorsOrigins
}

/**
 * The origins of a handler's `cors` option, which may be given as `{ origins }` or as the origins themselves.
 * @example
 * corsOrigins(['https://app.example']) // ['https://app.example']
 */
export function corsOrigins(option: CorsOptions | CorsOrigins | undefined): CorsOrigins | undefined {
  const origins =
    option === undefined || option === '*' || typeof option === 'function' || Array.isArray(option)
      ? (option as CorsOrigins | undefined)
      : typeof option === 'object' && option !== null
        ? (option as CorsOptions).origins
        : invalidCors(option)
  const valid =
    origins === undefined ||
    origins === '*' ||
    typeof origins === 'function' ||
    (Array.isArray(origins) && origins.every((origin) => typeof origin === 'string'))
  if (!valid) return invalidCors(origins)
  const stray = Array.isArray(origins) ? origins.find((origin) => !isSerializedOrigin(origin)) : undefined
  if (stray !== undefined) throw new InvalidOptionsError(`createShapeHandler option "cors" ${notAnOrigin(stray)}`)
  return origins
}

/** Whether `value` is an `Origin` header value a browser can send: `null` or `scheme://host[:port]` as serialized. */
export function isSerializedOrigin(value: string): boolean {
  return value === 'null' || originOf(value) === value
}

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin
  } catch {
    return undefined
  }
}

/**
 * Why a listed origin can never match, with the origin it probably meant.
 * @example
 * notAnOrigin('http://localhost:5173/') // 'lists "http://localhost:5173/", which is not an origin … (did you mean "http://localhost:5173"?) …'
 */
export function notAnOrigin(value: string): string {
  const origin = originOf(value)
  const meant = origin === undefined || origin === 'null' ? '' : ` (did you mean "${origin}"?)`
  return (
    `lists ${JSON.stringify(value)}, which is not an origin as browsers send it (scheme://host[:port], lower case, ` +
    `no path or trailing slash, no default port)${meant}; to allow every origin, give '*' alone`
  )
}

function invalidCors(value: unknown): never {
  const got = Array.isArray(value) ? 'a list holding a non-string' : value === null ? 'null' : typeof value
  throw new InvalidOptionsError(
    `createShapeHandler option "cors" must be { origins } or the origins themselves: '*', a list of origin strings or a predicate; got ${got}`,
  )
}

/** A CORS policy resolved for one handler: its origins and the methods `/v1/shape` answers. */
export interface CorsPolicy {
  readonly origins: CorsOrigins | undefined
  /** The `access-control-allow-methods` value. */
  readonly methods: string
}

/**
 * The `access-control-allow-origin` value `request` gets under `origins`, or undefined when it gets none.
 * @example
 * allowedOrigin(new Request('http://t/', { headers: { origin: 'null' } }), undefined) // undefined
 */
export function allowedOrigin(request: Request, origins: CorsOrigins | undefined): string | undefined {
  const origin = request.headers.get('origin')
  if (origins === '*') return '*'
  if (origin === null) return origins === undefined ? '*' : undefined
  if (origins === undefined) return origin === 'null' ? undefined : origin
  if (typeof origins === 'function') return safePredicate(origins, origin) ? origin : undefined
  return origins.includes(origin) ? origin : undefined
}

/** A predicate that throws allows nothing: a user's bug must not open the server. */
function safePredicate(predicate: (origin: string) => boolean, origin: string): boolean {
  try {
    return predicate(origin) === true
  } catch {
    return false
  }
}

/**
 * Sets (or strips) the CORS headers of a `/v1/shape` response under `policy` (see the invariants above).
 * @example
 * return applyCors(request, response, { origins: ['https://app.example'], methods: 'GET, HEAD, OPTIONS' })
 */
export function applyCors(request: Request, response: Response, policy: CorsPolicy): Response {
  const value = allowedOrigin(request, policy.origins)
  const headers = new Headers(response.headers)
  if (value === undefined) {
    for (const name of [...headers.keys()]) if (name.startsWith('access-control-')) headers.delete(name)
  } else {
    headers.set('access-control-allow-origin', value)
    headers.set('access-control-allow-methods', policy.methods)
  }
  if (policy.origins !== '*') {
    const vary = headers.get('vary')
    if (vary === null) headers.set('vary', 'origin')
    else if (!vary.split(',').some((name) => name.trim().toLowerCase() === 'origin')) headers.set('vary', `${vary}, origin`)
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}
